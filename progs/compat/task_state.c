// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * task_state.c - read a task's state on any kernel, the guard every scheduler tool carries since
 * Linux 5.14 renamed task_struct's 'state' (a long) to '__state' (an unsigned int): the program
 * asks bpf_core_field_exists which one the running kernel has and reads that one. The access the
 * running kernel lacks is poisoned at load and never reached.
 *
 * Exercises: bpf_core_field_exists, a ___flavour struct for the old layout, poisoned unreachable
 * instructions, BPF_CORE_READ of a field whose size differs between kernels.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

s64 last_state;
u32 used_new_layout;
u32 last_pid;

SEC("tp_btf/sched_switch")
int BPF_PROG(record_state, bool preempt, struct task_struct *prev)
{
	last_pid = BPF_CORE_READ(prev, pid);
	if (bpf_core_field_exists(prev->__state)) {
		used_new_layout = 1;
		last_state = BPF_CORE_READ(prev, __state);
	} else {
		used_new_layout = 0;
		last_state = BPF_CORE_READ((struct task_struct___pre514 *)prev, state);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
