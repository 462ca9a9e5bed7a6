// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * offcputime.c - measure off-CPU time the way offcputime tools do: at each context switch the
 * outgoing task's switch time and stack are recorded; when a task comes back, the time it spent
 * off CPU is added under (pid, stack id). The tasks come from sched_switch's arguments and are
 * read with CO-RE (their state through the 5.14 rename, guarded by bpf_core_field_exists).
 *
 * Exercises: tp_btf programs with BPF_PROG, task_struct CO-RE reads, bpf_core_field_exists with
 * a ___flavour for the old layout, STACK_TRACE, bpf_ktime_get_ns, hash maps.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct start {
	u64 when;
	s64 stack_id;
};

struct off_key {
	u32 pid;
	s32 stack_id;
};

/* Only tasks that switched out in this state are counted (0: runnable tasks too). */
const volatile long state_filter = -1;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__type(key, u32);
	__uint(value_size, 32 * sizeof(u64));
	__uint(max_entries, 128);
} stackmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, struct start);
	__uint(max_entries, 1024);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct off_key);
	__type(value, u64);
	__uint(max_entries, 1024);
} off_cpu SEC(".maps");

static long task_state(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)task, state);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u32 prev_pid = BPF_CORE_READ(prev, pid), next_pid = BPF_CORE_READ(next, pid);
	struct start *start;

	if (state_filter < 0 || task_state(prev) == state_filter) {
		struct start now = {
			.when = bpf_ktime_get_ns(),
			.stack_id = bpf_get_stackid(ctx, &stackmap, BPF_F_USER_STACK),
		};
		bpf_map_update_elem(&starts, &prev_pid, &now, BPF_ANY);
	}

	start = bpf_map_lookup_elem(&starts, &next_pid);
	if (!start)
		return 0;
	struct off_key key = { .pid = next_pid, .stack_id = (s32)start->stack_id };
	u64 delta = bpf_ktime_get_ns() - start->when, *total;
	total = bpf_map_lookup_elem(&off_cpu, &key);
	if (total)
		__sync_fetch_and_add(total, delta);
	else
		bpf_map_update_elem(&off_cpu, &key, &delta, BPF_NOEXIST);
	bpf_map_delete_elem(&starts, &next_pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
