// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ksym_guard.c - use kernel symbols only when they exist, as tools that support older kernels
 * do: weak __ksym variables are 0 when missing, weak kfuncs are called only after checking
 * their address. Here no kernel symbol exists, so the guarded paths are skipped and the
 * fallbacks run; the unguarded kfunc call of call_unguarded is poisoned and traps if run.
 *
 * Exercises: weak typed __ksym variables, weak kfuncs (their address checked with 'if'), poisoned
 * kfunc calls, fallbacks.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern const int bpf_prog_active __ksym __weak;
extern const u64 jiffies __ksym __weak;
extern void bpf_rcu_read_lock(void) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym __weak;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;

u64 used_kernel_symbols;
u64 used_fallbacks;

SEC("tracepoint/sched/sched_process_fork")
int guarded(void *ctx)
{
	if (&bpf_prog_active)
		used_kernel_symbols |= 1;
	else
		used_fallbacks |= 1;
	if (&jiffies)
		used_kernel_symbols |= 2;
	else
		used_fallbacks |= 2;
	if (bpf_rcu_read_lock && bpf_rcu_read_unlock) {
		bpf_rcu_read_lock();
		used_kernel_symbols |= 4;
		bpf_rcu_read_unlock();
	} else {
		used_fallbacks |= 4;
	}
	if (bpf_task_from_pid)
		used_kernel_symbols |= 8;
	else
		used_fallbacks |= 8;
	return 0;
}

SEC("tracepoint/sched/sched_process_fork")
int call_unguarded(void *ctx)
{
	return bpf_task_from_pid(1) != 0;
}

char LICENSE[] SEC("license") = "GPL";
