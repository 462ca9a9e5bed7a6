// SPDX-License-Identifier: GPL-2.0
/*
 * task_queue.c - latency and caller of task_kill(): the fentry program queues the request
 * (time, pid, signal) and notes who is calling; the fexit program takes the oldest pending
 * request off the queue and records how long the call took and how it ended. (The queue
 * pairs entries and exits in FIFO order, which is exact for a host that signals from one
 * thread at a time.)
 *
 * Exercises: BPF_MAP_TYPE_QUEUE (no key; bpf_map_push_elem 87 with BPF_EXIST = overwrite
 * the oldest entry when full, bpf_map_pop_elem 88, bpf_map_peek_elem 89), fentry and fexit
 * programs on the same hook in one object, bpf_ktime_get_ns (5),
 * bpf_get_current_pid_tgid (14), bpf_get_current_uid_gid (15), bpf_get_current_comm (16).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hooks.h"

struct kill_req {
	__u64 ts;		/*  0: bpf_ktime_get_ns() at entry */
	__s32 pid;		/*  8 */
	__s32 sig;		/* 12 */
};

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 16);
	__type(value, struct kill_req);
} pending SEC(".maps");

struct caller_info {
	__u64 pid_tgid;		/*  0: tgid << 32 | tid */
	__u64 uid_gid;		/*  8: gid << 32 | uid */
	char comm[16];		/* 16 */
};

struct kill_result {
	__u64 latency_ns;	/*  0 */
	__s32 pid;		/*  8 */
	__s32 sig;		/* 12 */
	__s32 ret;		/* 16 */
	__s32 oldest_sig;	/* 20: signal of the oldest still-pending request, or -1 */
};

/* .bss */
struct caller_info last_caller;
struct kill_result last_result;
__u64 completed;
__u64 orphans;			/* exits with no queued entry */

SEC("fentry/task_kill")
int BPF_PROG(kill_enter, int pid, int sig)
{
	struct kill_req r = {
		.ts = bpf_ktime_get_ns(),
		.pid = pid,
		.sig = sig,
	};

	bpf_map_push_elem(&pending, &r, BPF_EXIST);

	last_caller.pid_tgid = bpf_get_current_pid_tgid();
	last_caller.uid_gid = bpf_get_current_uid_gid();
	bpf_get_current_comm(last_caller.comm, sizeof(last_caller.comm));
	return 0;
}

SEC("fexit/task_kill")
int BPF_PROG(kill_exit, int pid, int sig, int ret)
{
	struct kill_req r, next;

	if (bpf_map_pop_elem(&pending, &r)) {
		__sync_fetch_and_add(&orphans, 1);
		return 0;
	}
	last_result.latency_ns = bpf_ktime_get_ns() - r.ts;
	last_result.pid = r.pid;
	last_result.sig = r.sig;
	last_result.ret = ret;
	last_result.oldest_sig = bpf_map_peek_elem(&pending, &next) ? -1 : next.sig;
	__sync_fetch_and_add(&completed, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
