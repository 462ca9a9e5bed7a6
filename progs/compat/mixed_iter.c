// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mixed_iter.c - an object with a task iterator that prints through a seq_file
 * (bpf_seq_printf, kernel-only) beside a socket filter that keeps only IPv4 TCP frames, which
 * runs over a packet given as its context.
 *
 * Exercises: iter/ programs with bpf_seq_printf beside a runnable socket filter;
 * bpf_skb_load_bytes-free parsing of a frame given as raw memory.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_iter_meta {
	void *seq;
	u64 session_id;
	u64 seq_num;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	static const char format[] = "%d %s\n";
	u64 args[2];

	if (!task)
		return 0;
	args[0] = task->pid;
	args[1] = (u64)task->comm;
	bpf_seq_printf(ctx->meta->seq, format, sizeof(format), args, sizeof(args));
	return 0;
}

u64 accepted, dropped;

/* The context is the frame itself: Ethernet, then IPv4. */
SEC("socket")
int keep_ipv4_tcp(unsigned char *frame)
{
	if (frame[12] == 0x08 && frame[13] == 0x00 && (frame[14] >> 4) == 4 && frame[23] == 6) {
		__sync_fetch_and_add(&accepted, 1);
		return -1;
	}
	__sync_fetch_and_add(&dropped, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
