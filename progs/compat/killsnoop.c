// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * killsnoop.c - trace kill() the way killsnoop tools do: the signal and target are saved at entry
 * and reported at exit with the result, through a perf buffer; a signal filter lives in .rodata.
 *
 * Exercises: PERF_EVENT_ARRAY with an explicit buffer index, hash maps, CO-RE on tracepoint contexts.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct kill_args {
	pid_t target;
	s32 signal;
};

/* 32 bytes */
struct kill_event {
	u32 pid;			/*  0 */
	pid_t target;			/*  4 */
	s32 signal;			/*  8 */
	s32 ret;			/* 12 */
	char comm[TASK_COMM_LEN];	/* 16 */
};

const volatile s32 target_signal = 0;
/* Every event goes to this perf buffer (the kernel's CPU 0), not the caller's. */
const volatile u32 buffer_index = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, u32);
	__type(value, struct kill_args);
} values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
	__uint(max_entries, 4);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_kill")
int kill_entry(struct trace_event_raw_sys_enter *ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct kill_args args = { .target = (pid_t)ctx->args[0], .signal = (s32)ctx->args[1] };

	if (target_signal && args.signal != target_signal)
		return 0;
	bpf_map_update_elem(&values, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_kill")
int kill_exit(struct trace_event_raw_sys_exit *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id;
	struct kill_args *args = bpf_map_lookup_elem(&values, &tid);
	struct kill_event event = {};

	if (!args)
		return 0;
	event.pid = id >> 32;
	event.target = args->target;
	event.signal = args->signal;
	event.ret = (s32)ctx->ret;
	bpf_get_current_comm(event.comm, sizeof(event.comm));
	bpf_perf_event_output(ctx, &events, buffer_index, &event, sizeof(event));
	bpf_map_delete_elem(&values, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
