// SPDX-License-Identifier: GPL-2.0
/*
 * profile_stacks.c - a sampling profiler: on every perf event, count the (user stack, kernel
 * stack, process) triple, with the stacks stored once each in a stack-trace map, as profile and
 * offcputime do.
 *
 * Exercises: BPF_MAP_TYPE_STACK_TRACE (value: an array of 127 addresses), bpf_get_stackid with
 * BPF_F_USER_STACK and BPF_F_FAST_STACK_CMP, a struct key, a perf_event program.
 */
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

#define PERF_MAX_STACK_DEPTH 127
#define TASK_COMM_LEN 16

struct key_t {
	__u32 pid;
	int user_stack_id;
	int kern_stack_id;
	char name[TASK_COMM_LEN];
};

typedef __u64 stack_trace_t[PERF_MAX_STACK_DEPTH];

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__type(key, __u32);
	__type(value, stack_trace_t);
	__uint(max_entries, 16384);
} stackmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct key_t);
	__type(value, __u64);
	__uint(max_entries, 16384);
} counts SEC(".maps");

const volatile bool user_stacks_only = false;

SEC("perf_event")
int do_perf_event(struct bpf_perf_event_data *ctx)
{
	struct key_t key = {};
	__u64 one = 1, *value;

	key.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&key.name, sizeof(key.name));
	key.user_stack_id = bpf_get_stackid(&ctx->regs, &stackmap, BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP);
	key.kern_stack_id = user_stacks_only ? -1 : bpf_get_stackid(&ctx->regs, &stackmap, 0);
	value = bpf_map_lookup_elem(&counts, &key);
	if (value)
		__sync_fetch_and_add(value, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
