// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mixed_helpers.c - an object with a program that needs the kernel's task (bpf_get_current_task)
 * and signals (bpf_send_signal), which a user-space runtime cannot give, beside one that only
 * counts exits per exit code, which runs.
 *
 * Exercises: kernel-only helpers in one program of an object; the other program's load.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

const volatile u32 kill_signal = 9;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 256);
} exit_codes SEC(".maps");

SEC("kprobe/do_exit")
int kill_parent_on_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (BPF_CORE_READ(task, real_parent, pid) > 1)
		bpf_send_signal(kill_signal);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_exit_group")
int count_exit(struct trace_event_raw_sys_enter *ctx)
{
	u32 code = (u32)ctx->args[0] & 0xff;
	u64 *count = bpf_map_lookup_elem(&exit_codes, &code);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
