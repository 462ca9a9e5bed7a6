// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cgroup_id_filter.c - the other cgroup filter tools use: compare bpf_get_current_cgroup_id()
 * with the id user space wrote into .rodata (the inode number of the cgroup's folder), and count
 * syscalls of the matching cgroup by syscall number into a per-CPU array.
 *
 * Exercises: bpf_get_current_cgroup_id, PERCPU_ARRAY counters, CO-RE on a tracepoint context.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile u64 target_cgroup_id = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 512);
} syscalls SEC(".maps");

u64 last_cgroup_id;

SEC("tracepoint/raw_syscalls/sys_enter")
int count_syscall(struct trace_event_raw_sys_enter *ctx)
{
	u64 cgroup = bpf_get_current_cgroup_id();
	u32 nr = (u32)ctx->id;
	u64 *count;

	last_cgroup_id = cgroup;
	if (target_cgroup_id && cgroup != target_cgroup_id)
		return 0;
	count = bpf_map_lookup_elem(&syscalls, &nr);
	if (count)
		*count += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
