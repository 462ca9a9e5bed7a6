// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_loop.c - buddy-allocator order of every buffer_alloc(): the smallest order o
 * (0..11) with (4096 << o) >= size, i.e. how many contiguous 4 KiB pages (1 << o) the
 * request needs. Keeps a histogram of orders, the last order and iteration count, and
 * counts requests too large for any order (> 8 MiB).
 *
 * Exercises: bpf_loop (helper 181) with a static callback `long cb(__u64 index, void *ctx)`
 * whose address is taken (ld_imm64 + R_BPF_64_64 against .text, BPF_PSEUDO_FUNC after
 * loading); the callback writes through its ctx pointer into the caller's stack and stops
 * the loop early by returning 1; bpf_loop's return value (iterations run).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hooks.h"

#define PAGE_SIZE 4096ULL
#define NR_ORDERS 12		/* orders 0..11: 4 KiB .. 8 MiB */

struct order_ctx {
	__u64 size;		/* in */
	__u32 order;		/* out */
	__u32 found;		/* out */
};

/* .bss */
__u64 order_hist[NR_ORDERS];
__u32 last_order;
__s64 last_iterations;
__u64 too_large;

static long find_order(__u64 index, void *data)
{
	struct order_ctx *c = data;

	if ((PAGE_SIZE << index) >= c->size) {
		c->order = index;
		c->found = 1;
		return 1;	/* stop */
	}
	return 0;		/* next order */
}

SEC("fentry/buffer_alloc")
int BPF_PROG(alloc_order, __u64 size, __u32 flags)
{
	struct order_ctx c = { .size = size };
	long n;

	n = bpf_loop(NR_ORDERS, find_order, &c, 0);
	last_iterations = n;
	if (!c.found) {
		__sync_fetch_and_add(&too_large, 1);
		return 0;
	}
	last_order = c.order;
	if (c.order < NR_ORDERS)
		__sync_fetch_and_add(&order_hist[c.order], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
