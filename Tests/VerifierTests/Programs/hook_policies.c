// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hook_policies.c - programs on the host hooks of progs/include/hooks.h: an LSM policy that
 * can only deny, tracing programs that must return 0, a pointer chase through BTF-typed
 * arguments, and the mistakes: a policy returning a positive value, an fentry program
 * returning 1, a write through a hook pointer.
 */
// expect deny_writes: accept
// expect keep_previous_verdict: accept
// expect policy_returns_positive: reject should have been in [-4095, 0]
// expect trace_inode: accept
// expect fentry_returns_one: reject should have been in [0, 0]
// expect fexit_sees_return_value: accept
// expect rewrite_file_position: reject only read is supported
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hooks.h"

__u64 opened_for_write;

SEC("lsm/file_open")
int BPF_PROG(deny_writes, struct file *file, int flags, int ret)
{
	if (file->f_mode & FMODE_WRITE) {
		__sync_fetch_and_add(&opened_for_write, 1);
		return -EACCES;
	}
	return 0;
}

SEC("lsm/file_permission")
int BPF_PROG(keep_previous_verdict, struct file *file, int mask, int ret)
{
	if (ret != 0)
		return ret;
	return (mask & MAY_EXEC) ? -EPERM : 0;
}

SEC("lsm/task_kill")
int BPF_PROG(policy_returns_positive, int pid, int sig, int ret)
{
	return pid == 1 ? 1 : 0;
}

SEC("fentry/file_permission")
int BPF_PROG(trace_inode, struct file *file, int mask)
{
	struct inode *inode = file->f_inode;

	bpf_printk("ino %llu mode %o", inode->i_ino, inode->i_mode);
	return 0;
}

SEC("fentry/task_kill")
int BPF_PROG(fentry_returns_one, int pid, int sig)
{
	return sig == 9;
}

SEC("fexit/net_send")
int BPF_PROG(fexit_sees_return_value, __u32 daddr, __u16 dport, __u32 len, long ret)
{
	if (ret < 0)
		bpf_printk("send to %x:%u failed: %ld", daddr, dport, ret);
	return 0;
}

SEC("fentry/file_open")
int BPF_PROG(rewrite_file_position, struct file *file, int flags)
{
	file->f_pos = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
