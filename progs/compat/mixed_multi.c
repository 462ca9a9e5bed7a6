// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mixed_multi.c - an object whose programs do not all run here, as many tools ship: a
 * kprobe.multi program (one kernel link over many kernel functions, kernel-only) next to a
 * tracepoint program that counts read() calls per file descriptor, which runs.
 *
 * Exercises: a kernel-only section beside a runnable one; loading one program of an object.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 64);
} reads SEC(".maps");

u64 tcp_calls;

SEC("kprobe.multi/tcp_*")
int count_tcp_functions(void *ctx)
{
	__sync_fetch_and_add(&tcp_calls, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int count_reads(struct trace_event_raw_sys_enter *ctx)
{
	u32 fd = (u32)ctx->args[0];
	u64 one = 1, *count = bpf_map_lookup_elem(&reads, &fd);

	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&reads, &fd, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
