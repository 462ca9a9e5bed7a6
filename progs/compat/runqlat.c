// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * runqlat.c - run-queue latency per process, the way runqlat tools do: a task's wake-up is
 * stamped; when the scheduler switches it in, log2 of the wait (µs) is added to its histogram.
 * A .rodata filter keeps one tgid; tasks that switch out while still runnable are re-stamped.
 *
 * Exercises: tp_btf programs with BPF_PROG and task_struct arguments, BPF_CORE_READ, a guarded
 * state read, hash maps of histograms, bpf_ktime_get_ns, a bounded log2 loop.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define SLOTS 20

struct histogram {
	u64 slots[SLOTS];
};

const volatile pid_t target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 1024);
} wakeups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, struct histogram);
	__uint(max_entries, 64);
} latencies SEC(".maps");

static void stamp(struct task_struct *task)
{
	u32 pid = BPF_CORE_READ(task, pid);
	u64 now = bpf_ktime_get_ns();

	if (target_tgid && BPF_CORE_READ(task, tgid) != target_tgid)
		return;
	bpf_map_update_elem(&wakeups, &pid, &now, BPF_ANY);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(handle_wakeup, struct task_struct *task)
{
	stamp(task);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	static const struct histogram zero;
	u32 pid = BPF_CORE_READ(next, pid), tgid = BPF_CORE_READ(next, tgid);
	struct histogram *histogram;
	u64 *woken, delta;
	u32 slot = 0;

	if (BPF_CORE_READ(prev, __state) == 0)
		stamp(prev);
	woken = bpf_map_lookup_elem(&wakeups, &pid);
	if (!woken)
		return 0;
	delta = (bpf_ktime_get_ns() - *woken) / 1000;
	for (int i = 0; i < SLOTS - 1 && delta > 1; i++) {
		delta >>= 1;
		slot++;
	}
	bpf_map_update_elem(&latencies, &tgid, &zero, BPF_NOEXIST);
	histogram = bpf_map_lookup_elem(&latencies, &tgid);
	if (histogram && slot < SLOTS)
		__sync_fetch_and_add(&histogram->slots[slot], 1);
	bpf_map_delete_elem(&wakeups, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
