// SPDX-License-Identifier: GPL-2.0
/*
 * array_maps.c - allocation profile of buffer_alloc(): a shared array counts calls per size
 * class, and a per-CPU array (per thread in this runtime) keeps calls, bytes and the largest
 * size requested, updated without atomics because no other CPU/thread touches that slot.
 *
 * Size classes: 0 = tiny (<= 64 B), 1 = small (<= 4 KiB), 2 = medium (<= 1 MiB),
 *               3 = large (> 1 MiB).
 *
 * Exercises: BPF_MAP_TYPE_ARRAY (lookup by index, atomic increment of the value),
 * BPF_MAP_TYPE_PERCPU_ARRAY (lookup of slot 0, plain read-modify-write), fentry.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hooks.h"

#define NR_SIZE_CLASSES 4

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SIZE_CLASSES);
	__type(key, __u32);
	__type(value, __u64);
} alloc_classes SEC(".maps");

struct alloc_stats {
	__u64 calls;		/*  0 */
	__u64 bytes;		/*  8 */
	__u64 max_size;		/* 16 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct alloc_stats);
} alloc_stats SEC(".maps");

static __always_inline __u32 size_class(__u64 size)
{
	if (size <= 64)
		return 0;
	if (size <= 4096)
		return 1;
	if (size <= (1 << 20))
		return 2;
	return 3;
}

SEC("fentry/buffer_alloc")
int BPF_PROG(account_alloc, __u64 size, __u32 flags)
{
	__u32 cls = size_class(size), zero = 0;
	struct alloc_stats *st;
	__u64 *count;

	count = bpf_map_lookup_elem(&alloc_classes, &cls);
	if (count)
		__sync_fetch_and_add(count, 1);

	st = bpf_map_lookup_elem(&alloc_stats, &zero);
	if (!st)
		return 0;
	st->calls++;
	st->bytes += size;
	if (size > st->max_size)
		st->max_size = size;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
