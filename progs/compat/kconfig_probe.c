// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kconfig_probe.c - adapt to the kernel's configuration and version, as tools do with
 * __kconfig externs: libbpf's own LINUX_* values (kernel version, syscall wrappers, BPF
 * cookies) and CONFIG_* options read from the kernel configuration, weak ones defaulting to 0.
 * The program copies what it sees into .bss and picks a tick length from CONFIG_HZ.
 *
 * Exercises: the .kconfig map, LINUX_KERNEL_VERSION, LINUX_HAS_SYSCALL_WRAPPER,
 * LINUX_HAS_BPF_COOKIE, weak bool, tristate, int, unsigned long and char-array CONFIG_ externs,
 * KERNEL_VERSION comparisons.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern u32 LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig __weak;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern enum libbpf_tristate CONFIG_BLK_DEV_NVME __kconfig __weak;
extern int CONFIG_HZ __kconfig __weak;
extern unsigned long CONFIG_PHYSICAL_START __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig __weak;

struct seen {
	u64 kernel_version;
	u64 is_6_or_later;
	u64 syscall_wrapper;
	u64 bpf_cookie;
	u64 bpf_syscall;
	u64 nvme;			/* 0 n, 1 y, 2 m */
	u64 hz;
	u64 tick_us;			/* 1e6 / HZ, or 0 when unknown */
	u64 physical_start;
	char hostname[16];
};

struct seen seen;

SEC("tracepoint/syscalls/sys_enter_uname")
int probe_config(void *ctx)
{
	seen.kernel_version = LINUX_KERNEL_VERSION;
	seen.is_6_or_later = LINUX_KERNEL_VERSION >= KERNEL_VERSION(6, 0, 0);
	seen.syscall_wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	seen.bpf_cookie = LINUX_HAS_BPF_COOKIE;
	seen.bpf_syscall = CONFIG_BPF_SYSCALL;
	seen.nvme = CONFIG_BLK_DEV_NVME;
	seen.hz = CONFIG_HZ;
	seen.tick_us = CONFIG_HZ > 0 ? 1000000u / (u32)CONFIG_HZ : 0;
	seen.physical_start = CONFIG_PHYSICAL_START;
	__builtin_memcpy(seen.hostname, CONFIG_DEFAULT_HOSTNAME, sizeof(seen.hostname));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
