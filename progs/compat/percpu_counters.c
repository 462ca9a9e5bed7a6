// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * percpu_counters.c - count events per CPU and summarise them in a second program, as tools
 * that keep per-CPU statistics do: count_event adds to the calling CPU's copy (here: the calling
 * thread's) and remembers the CPU it ran on and when (boot time), summarise adds every CPU's copy
 * with bpf_map_lookup_percpu_elem into .bss.
 *
 * Exercises: PERCPU_ARRAY, bpf_map_lookup_percpu_elem, bpf_get_smp_processor_id,
 * bpf_ktime_get_boot_ns, bpf_ktime_get_coarse_ns, bounded loops over CPUs.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_CPUS 64

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 1);
} events SEC(".maps");

u64 total;
u32 cpus_seen;
u32 last_cpu;
u64 last_boot_ns;
u64 last_coarse_ns;

SEC("tracepoint/syscalls/sys_enter_getpid")
int count_event(void *ctx)
{
	u32 zero = 0;
	u64 *count = bpf_map_lookup_elem(&events, &zero);

	if (count)
		*count += 1;
	last_cpu = bpf_get_smp_processor_id();
	last_boot_ns = bpf_ktime_get_boot_ns();
	last_coarse_ns = bpf_ktime_get_coarse_ns();
	return 0;
}

SEC("syscall")
int summarise(void *ctx)
{
	u32 zero = 0;
	u64 sum = 0;
	u32 seen = 0;

	for (u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
		u64 *count = bpf_map_lookup_percpu_elem(&events, &zero, cpu);
		if (!count)
			break;
		if (*count)
			seen++;
		sum += *count;
	}
	total = sum;
	cpus_seen = seen;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
