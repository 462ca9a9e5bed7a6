// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mapinmap_dispatch.c - switch a tool's tables atomically, the map-in-map pattern: an array of
 * maps holds two tables made from one template, .rodata says which one programs fill; user space
 * swaps the active slot's table and drains the other one. Counts land in the table the outer
 * map gives for the active slot.
 *
 * Exercises: ARRAY_OF_MAPS with libbpf's __array(values, struct inner) template and initial
 * values, lookups through the inner map pointer the outer lookup returns, a global selector.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct table {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, u32);
	__type(value, u64);
};

struct table table_a SEC(".maps"), table_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, u32);
	__array(values, struct table);
} tables SEC(".maps") = {
	.values = { [0] = &table_a, [1] = &table_b },
};

/* Which slot of 'tables' programs fill; user space flips it. */
u32 active_slot;
u64 missing_table;

SEC("tracepoint/syscalls/sys_enter_write")
int count_write(struct trace_event_raw_sys_enter *ctx)
{
	u32 slot = active_slot, fd = (u32)ctx->args[0];
	u64 one = 1, *count;
	void *table = bpf_map_lookup_elem(&tables, &slot);

	if (!table) {
		__sync_fetch_and_add(&missing_table, 1);
		return 0;
	}
	count = bpf_map_lookup_elem(table, &fd);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(table, &fd, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
