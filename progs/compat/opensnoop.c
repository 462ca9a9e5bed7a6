// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * opensnoop.c - trace openat() the way opensnoop tools do: the entry tracepoint keeps the path
 * pointer and flags per thread, the exit tracepoint reads the path and sends an event with the
 * returned descriptor through a perf buffer. Options in .rodata: one process, only failures.
 *
 * Exercises: PERF_EVENT_ARRAY, bpf_perf_event_output with BPF_F_CURRENT_CPU, hash maps keyed by
 * thread, bpf_probe_read_user_str, CO-RE on tracepoint contexts.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define NAME_LEN 64

struct args {
	const char *path;
	s32 flags;
	s32 pad;
};

/* 96 bytes */
struct open_event {
	u32 pid;			/*  0 */
	s32 flags;			/*  4 */
	s64 ret;			/*  8 */
	char comm[TASK_COMM_LEN];	/* 16 */
	char path[NAME_LEN];		/* 32 */
};

const volatile pid_t target_tgid = 0;
const volatile bool failed_only = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, struct args);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id;
	struct args args = {};

	if (target_tgid && target_tgid != (pid_t)(id >> 32))
		return 0;
	args.path = (const char *)ctx->args[1];
	args.flags = (s32)ctx->args[2];
	bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int trace_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id;
	struct open_event event = {};
	struct args *args = bpf_map_lookup_elem(&start, &tid);

	if (!args)
		return 0;
	if (failed_only && ctx->ret >= 0)
		goto cleanup;
	event.pid = id >> 32;
	event.flags = args->flags;
	event.ret = ctx->ret;
	bpf_get_current_comm(event.comm, sizeof(event.comm));
	bpf_probe_read_user_str(event.path, sizeof(event.path), args->path);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));
cleanup:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
