// SPDX-License-Identifier: GPL-2.0
/*
 * lsm_policy.c - two LSM-style mandatory access checks of the host:
 *   - lsm/file_permission: deny the accesses listed in the protected_inodes map
 *     (key = inode number, value = bitmask of denied MAY_* bits), e.g. make a
 *     configuration file read-only for the process by storing MAY_WRITE for its inode;
 *   - lsm/task_kill: nobody may SIGKILL or SIGSTOP pid 1 or broadcast (pid -1) SIGKILL.
 * Both return 0 (allow) or -EPERM (deny); they run only while rc == 0 and can only turn an
 * allow into a deny.
 *
 * Exercises: SEC("lsm/HOOK") on int hooks, two programs in one object, a hash map the host
 * fills (lookup only), BPF_CORE_READ pointer chase (bpf_probe_read_kernel), scalar
 * arguments, the return value slot (ctx[2]) in range [-4095, 0].
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hooks.h"

#define SIGKILL 9
#define SIGSTOP 19

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);	/* inode number */
	__type(value, __u32);	/* denied MAY_* bits */
} protected_inodes SEC(".maps");

/* .bss */
__u64 file_denials;
__u64 kill_denials;

SEC("lsm/file_permission")
int BPF_PROG(restrict_file_permission, struct file *file, int mask, int ret)
{
	__u32 *denied;
	__u64 ino;

	/* A previous check already denied: keep its verdict. */
	if (ret != 0)
		return ret;

	ino = BPF_CORE_READ(file, f_inode, i_ino);
	denied = bpf_map_lookup_elem(&protected_inodes, &ino);
	if (denied && (*denied & (__u32)mask)) {
		__sync_fetch_and_add(&file_denials, 1);
		return -EPERM;
	}
	return 0;
}

SEC("lsm/task_kill")
int BPF_PROG(protect_init, int pid, int sig, int ret)
{
	if (ret != 0)
		return ret;

	if ((pid == 1 && (sig == SIGKILL || sig == SIGSTOP)) || (pid == -1 && sig == SIGKILL)) {
		__sync_fetch_and_add(&kill_denials, 1);
		return -EPERM;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
