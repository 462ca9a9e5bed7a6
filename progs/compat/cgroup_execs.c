// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cgroup_execs.c - count execs per command, only for tasks under the cgroup user space put in
 * cgroup_map, the cgroup filter libbpf tools offer with --cgroup (bpf_current_task_under_cgroup).
 * A miss is counted too: 'outside' for tasks elsewhere, 'unset' while the map holds no cgroup.
 *
 * Exercises: CGROUP_ARRAY + bpf_current_task_under_cgroup (1, 0, -EAGAIN), hash maps keyed by
 * a comm string, .bss counters.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct comm_key {
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__type(key, u32);
	__type(value, u32);
	__uint(max_entries, 1);
} cgroup_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct comm_key);
	__type(value, u64);
	__uint(max_entries, 128);
} execs_by_comm SEC(".maps");

u64 outside;
u64 unset;

SEC("tracepoint/sched/sched_process_exec")
int count_exec(void *ctx)
{
	struct comm_key key = {};
	u64 one = 1, *count;
	long under = bpf_current_task_under_cgroup(&cgroup_map, 0);

	if (under < 0) {
		__sync_fetch_and_add(&unset, 1);
		return 0;
	}
	if (!under) {
		__sync_fetch_and_add(&outside, 1);
		return 0;
	}
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	count = bpf_map_lookup_elem(&execs_by_comm, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&execs_by_comm, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
