// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * execsnoop.c - trace exec() calls the way execsnoop tools do: the entry tracepoint saves the
 * caller, the file name and the first arguments in a hash map keyed by thread; the exit
 * tracepoint completes the event with the return value and sends it through a perf buffer.
 * Options in .rodata: only one uid, ignore failed execs, only the cgroup in cgroup_map.
 *
 * Exercises: PERF_EVENT_ARRAY + bpf_perf_event_output, CGROUP_ARRAY + bpf_current_task_under_cgroup,
 * bpf_probe_read_user_str, bpf_probe_read_user, bounded loops, CO-RE on tracepoint contexts.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define MAX_ARGS 3
#define ARG_LEN 16
#define NAME_LEN 32

/* 120 bytes */
struct exec_event {
	u32 pid;			/*   0 */
	u32 uid;			/*   4 */
	s64 retval;			/*   8 */
	u32 args_count;			/*  16 */
	u32 pad;			/*  20 */
	char comm[TASK_COMM_LEN];	/*  24 */
	char filename[NAME_LEN];	/*  40 */
	char args[MAX_ARGS][ARG_LEN];	/*  72 */
};

const volatile uid_t target_uid = (uid_t)-1;
const volatile bool ignore_failed = false;
const volatile bool filter_cgroup = false;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__type(key, u32);
	__type(value, u32);
	__uint(max_entries, 1);
} cgroup_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, pid_t);
	__type(value, struct exec_event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

static const struct exec_event empty;

SEC("tracepoint/syscalls/sys_enter_execve")
int trace_enter(struct trace_event_raw_sys_enter *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	pid_t tid = (pid_t)id;
	uid_t uid = (u32)bpf_get_current_uid_gid();
	struct exec_event *event;

	if (filter_cgroup && bpf_current_task_under_cgroup(&cgroup_map, 0) != 1)
		return 0;
	if (target_uid != (uid_t)-1 && target_uid != uid)
		return 0;
	if (bpf_map_update_elem(&execs, &tid, &empty, BPF_NOEXIST))
		return 0;
	event = bpf_map_lookup_elem(&execs, &tid);
	if (!event)
		return 0;
	event->pid = id >> 32;
	event->uid = uid;
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	bpf_probe_read_user_str(event->filename, sizeof(event->filename), (const char *)ctx->args[0]);

	const char *const *argv = (const char *const *)ctx->args[1];
	for (int i = 0; i < MAX_ARGS; i++) {
		const char *arg = 0;
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			break;
		if (bpf_probe_read_user_str(event->args[i], ARG_LEN, arg) < 0)
			break;
		event->args_count++;
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int trace_exit(struct trace_event_raw_sys_exit *ctx)
{
	pid_t tid = (pid_t)bpf_get_current_pid_tgid();
	struct exec_event *event = bpf_map_lookup_elem(&execs, &tid);

	if (!event)
		return 0;
	event->retval = ctx->ret;
	if (!(ignore_failed && ctx->ret < 0))
		bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, event, sizeof(*event));
	bpf_map_delete_elem(&execs, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
