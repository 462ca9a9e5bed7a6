// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup_filter.c - count openat() calls per process, only inside the cgroup user space puts in
 * slot 0 of a cgroup array (the "-c CG" option of tools such as opensnoop and biolatency).
 *
 * Exercises: BPF_MAP_TYPE_CGROUP_ARRAY, bpf_current_task_under_cgroup, a .rodata switch, a kprobe
 * reading its arguments through PT_REGS, and a counter program that runs without the filter.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile bool filter_cg = false;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} cgroup_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void count(__u32 tgid)
{
	__u64 one = 1, *value = bpf_map_lookup_elem(&counts, &tgid);

	if (value)
		__sync_fetch_and_add(value, 1);
	else
		bpf_map_update_elem(&counts, &tgid, &one, BPF_NOEXIST);
}

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(do_sys_openat2, int dfd, const char *filename)
{
	if (filter_cg && !bpf_current_task_under_cgroup(&cgroup_map, 0))
		return 0;
	count(bpf_get_current_pid_tgid() >> 32);
	return 0;
}

/* The same count for every caller: no cgroup map, so it runs anywhere. */
SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(do_sys_openat2_all, int dfd)
{
	count(bpf_get_current_pid_tgid() >> 32);
	return dfd < 0;
}

char LICENSE[] SEC("license") = "GPL";
