// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hash_of_maps_policy.c - per-user port policies kept as one inner array per uid in a hash of
 * maps: user space adds a policy table for each uid it manages (from the template), the program
 * finds the caller's table and checks the port of each bind against it. Callers without a table
 * are allowed; callers with one are allowed the ports it marks.
 *
 * Exercises: HASH_OF_MAPS with an __array template and no initial values, inner maps created by
 * the host from the template, ARRAY inner maps, kprobe arguments with PT_REGS_PARM.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct port_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u8);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 16);
	__type(key, u32);
	__array(values, struct port_table);
} policies SEC(".maps");

u64 allowed, denied, unmanaged;

/* Returns 0 when the bind may go ahead, -EPERM when the caller's table refuses the port. */
SEC("kprobe/check_bind_port")
int BPF_KPROBE(check_port, u32 port)
{
	u32 uid = (u32)bpf_get_current_uid_gid();
	void *table = bpf_map_lookup_elem(&policies, &uid);
	u8 *ok;

	if (!table) {
		__sync_fetch_and_add(&unmanaged, 1);
		return 0;
	}
	ok = bpf_map_lookup_elem(table, &port);
	if (ok && *ok) {
		__sync_fetch_and_add(&allowed, 1);
		return 0;
	}
	__sync_fetch_and_add(&denied, 1);
	return -EPERM;
}

char LICENSE[] SEC("license") = "GPL";
