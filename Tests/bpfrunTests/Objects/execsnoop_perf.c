// SPDX-License-Identifier: GPL-2.0
/*
 * execsnoop_perf.c - trace exec() calls and send one event per call to user space through a perf
 * event array, the way execsnoop-style tools did before ring buffers: the entry tracepoint stores
 * the arguments per thread, the exit tracepoint completes the event with the return value and
 * emits it with bpf_perf_event_output on the current CPU's buffer.
 *
 * Exercises: BPF_MAP_TYPE_PERF_EVENT_ARRAY (key_size and value_size only), a per-CPU scratch
 * array, bpf_probe_read_user_str, bpf_get_current_comm, tracepoint contexts declared by hand.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16
#define ARGSIZE 128

/* The format of syscalls/sys_enter_execve and sys_exit_execve, as tracefs describes it. */
struct trace_event_raw_sys_enter {
	__u64 unused;
	long id;
	unsigned long args[6];
};

struct trace_event_raw_sys_exit {
	__u64 unused;
	long id;
	long ret;
};

struct event {
	__u32 pid;
	__u32 ppid;
	int retval;
	char comm[TASK_COMM_LEN];
	char filename[ARGSIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

const volatile __u32 target_uid = 0;

SEC("tp/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	__u32 zero = 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	struct event *event;

	if (target_uid && (__u32)bpf_get_current_uid_gid() != target_uid)
		return 0;
	event = bpf_map_lookup_elem(&scratch, &zero);
	if (!event)
		return 0;
	event->pid = pid;
	event->ppid = 0;
	bpf_get_current_comm(&event->comm, sizeof(event->comm));
	bpf_probe_read_user_str(event->filename, sizeof(event->filename), (const char *)ctx->args[0]);
	bpf_map_update_elem(&execs, &pid, event, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_execve")
int tracepoint__syscalls__sys_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *event = bpf_map_lookup_elem(&execs, &pid);

	if (!event)
		return 0;
	event->retval = ctx->ret;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, event, sizeof(*event));
	bpf_map_delete_elem(&execs, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
