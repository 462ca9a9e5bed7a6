// SPDX-License-Identifier: GPL-2.0
/*
 * ksym_externs.c - read per-CPU kernel variables the way libbpf's ksym tests do: a typeless
 * __ksym (its BTF VAR has type void), a typed one, and kconfig values libbpf supplies itself.
 * A second program uses no extern at all.
 *
 * Exercises: `extern void sym __ksym` (VAR of type void), `extern const struct rq runqueues
 * __ksym`, __kconfig externs (LINUX_KERNEL_VERSION, a weak CONFIG_ bool), bpf_per_cpu_ptr.
 */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

struct rq {
	int cpu;
} __attribute__((preserve_access_index));

extern void bpf_prog_active __ksym;
extern const struct rq runqueues __ksym;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;

__u64 out_active_address;
int out_rq_cpu;
unsigned int out_version;

SEC("raw_tp/sys_enter")
int handler(const void *ctx)
{
	struct rq *rq = bpf_per_cpu_ptr(&runqueues, 0);

	out_active_address = (__u64)&bpf_prog_active;
	if (rq)
		out_rq_cpu = rq->cpu;
	out_version = CONFIG_BPF_SYSCALL ? LINUX_KERNEL_VERSION : 0;
	return 0;
}

SEC("raw_tp/sys_exit")
int plain(const void *ctx)
{
	out_version += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
