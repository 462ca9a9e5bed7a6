// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * syscall_args.c - read a syscall's arguments from a kprobe on its entry point on any kernel, as
 * BPF_KSYSCALL does: with syscall wrappers (x86-64 since 4.17, LINUX_HAS_SYSCALL_WRAPPER) the
 * probed function's first argument is a struct pt_regs holding the user's registers, without
 * them the arguments are the probed function's own. The program records the path pointer and
 * flags of openat() and sums the flags it sees.
 *
 * Exercises: LINUX_HAS_SYSCALL_WRAPPER, PT_REGS_PARM*_CORE_SYSCALL reading nested pt_regs with
 * bpf_probe_read_kernel, PT_REGS_PARM* on the probe's own context.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;

u64 last_path;
u64 last_flags;
u64 last_dirfd;
u64 calls;

SEC("kprobe/__x64_sys_openat")
int probe_openat(struct pt_regs *ctx)
{
	struct pt_regs *regs = ctx;

	if (LINUX_HAS_SYSCALL_WRAPPER)
		regs = (struct pt_regs *)PT_REGS_PARM1(ctx);
	last_dirfd = PT_REGS_PARM1_CORE_SYSCALL(regs);
	last_path = PT_REGS_PARM2_CORE_SYSCALL(regs);
	last_flags = PT_REGS_PARM3_CORE_SYSCALL(regs);
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
