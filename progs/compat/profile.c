// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * profile.c - sample stacks the way profile tools do: on each perf event the program takes the
 * user and kernel stack ids of the current thread and counts the sample under (pid, both stack
 * ids, comm). Options in .rodata: user stacks only, kernel stacks only.
 *
 * Exercises: perf_event programs (struct bpf_perf_event_data), STACK_TRACE + bpf_get_stackid
 * (user stacks with BPF_F_USER_STACK; the kernel stack has no frames here, so its id is -EFAULT),
 * counting in a hash map with BPF_NOEXIST and atomics.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_STACK_DEPTH 127

/* 32 bytes */
struct sample_key {
	u32 pid;			/*  0 */
	s32 user_stack_id;		/*  4 */
	s32 kernel_stack_id;		/*  8 */
	u32 pad;			/* 12 */
	char comm[TASK_COMM_LEN];	/* 16 */
};

const volatile bool user_stacks_only = false;
const volatile bool kernel_stacks_only = false;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__type(key, u32);
	__uint(value_size, MAX_STACK_DEPTH * sizeof(u64));
	__uint(max_entries, 1024);
} stackmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sample_key);
	__type(value, u64);
	__uint(max_entries, 1024);
} counts SEC(".maps");

SEC("perf_event")
int do_perf_event(struct bpf_perf_event_data *ctx)
{
	struct sample_key key = {};
	u64 one = 1, *count;

	key.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	key.user_stack_id = kernel_stacks_only ? -1 : bpf_get_stackid(&ctx->regs, &stackmap, BPF_F_USER_STACK);
	key.kernel_stack_id = user_stacks_only ? -1 : bpf_get_stackid(&ctx->regs, &stackmap, 0);
	count = bpf_map_lookup_elem(&counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
