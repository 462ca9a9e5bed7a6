// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * stackcount.c - count the stacks that reach a probed function the way stackcount tools do,
 * and keep the most recent raw user stack of each thread (bpf_get_stack into a per-CPU scratch
 * value, then copied into a hash map), as tools that symbolise in user space do.
 *
 * Exercises: STACK_TRACE + bpf_get_stackid with a skip count and BPF_F_REUSE_STACKID,
 * bpf_get_stack, PERCPU_ARRAY scratch space, hash maps of arrays.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define DEPTH 16

struct raw_stack {
	s64 size;
	u64 frames[DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__type(key, u32);
	__uint(value_size, DEPTH * sizeof(u64));
	__uint(max_entries, 256);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, s32);
	__type(value, u64);
	__uint(max_entries, 256);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, u32);
	__type(value, struct raw_stack);
	__uint(max_entries, 1);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, struct raw_stack);
	__uint(max_entries, 64);
} last_stack SEC(".maps");

SEC("kprobe/vfs_read")
int BPF_KPROBE(count_stack)
{
	u32 zero = 0, tid = (u32)bpf_get_current_pid_tgid();
	s32 id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK | BPF_F_REUSE_STACKID);
	u64 one = 1, *count;
	struct raw_stack *raw;

	count = bpf_map_lookup_elem(&counts, &id);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&counts, &id, &one, BPF_NOEXIST);

	raw = bpf_map_lookup_elem(&scratch, &zero);
	if (!raw)
		return 0;
	raw->size = bpf_get_stack(ctx, raw->frames, sizeof(raw->frames), BPF_F_USER_STACK);
	bpf_map_update_elem(&last_stack, &tid, raw, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
