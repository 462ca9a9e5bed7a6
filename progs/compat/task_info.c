// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * task_info.c - describe the task that execs, as process-monitoring tools do: its pid and tgid,
 * its parent's tgid, its uid from the credentials, and its command line's length from the
 * mm_struct, whose fields a recent kernel keeps in an anonymous struct. The task comes from the
 * tp_btf arguments; every read goes through BPF_CORE_READ (bpf_probe_read_kernel).
 *
 * Exercises: BPF_CORE_READ chains (task->real_parent->tgid, task->mm->arg_end, task->cred->uid.val),
 * members of anonymous structs in the target only, BPF_CORE_READ_STR_INTO, ring buffer output.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* 48 bytes */
struct task_event {
	u32 pid;			/*  0 */
	u32 tgid;			/*  4 */
	u32 ppid;			/*  8 */
	u32 uid;			/* 12 */
	u64 args_size;			/* 16 */
	char comm[TASK_COMM_LEN];	/* 24 */
	u64 flags;			/* 40 */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(describe_exec, struct task_struct *task)
{
	struct task_event *event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);

	if (!event)
		return 0;
	event->pid = BPF_CORE_READ(task, pid);
	event->tgid = BPF_CORE_READ(task, tgid);
	event->ppid = BPF_CORE_READ(task, real_parent, tgid);
	event->uid = BPF_CORE_READ(task, cred, uid.val);
	event->args_size = BPF_CORE_READ(task, mm, arg_end) - BPF_CORE_READ(task, mm, arg_start);
	event->flags = BPF_CORE_READ(task, flags);
	BPF_CORE_READ_STR_INTO(&event->comm, task, comm);
	bpf_ringbuf_submit(event, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
