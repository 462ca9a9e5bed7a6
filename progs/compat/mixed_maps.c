// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mixed_maps.c - an object with a map type this runtime does not create (a longest-prefix-match
 * trie of blocked networks, used by an xdp program) beside a tracepoint program that only uses
 * an array of counters, which runs.
 *
 * Exercises: an unsupported map type in one program of an object; the other program's load.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct ipv4_prefix {
	u32 prefix_len;
	u32 address;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct ipv4_prefix);
	__type(value, u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 256);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 4);
} counters SEC(".maps");

SEC("xdp")
int drop_blocked(struct xdp_md *ctx)
{
	struct ipv4_prefix key = { .prefix_len = 32 };
	unsigned char *data = (unsigned char *)(long)ctx->data;

	if (data + 34 > (unsigned char *)(long)ctx->data_end)
		return XDP_PASS;
	__builtin_memcpy(&key.address, data + 26, 4);
	return bpf_map_lookup_elem(&blocked, &key) ? XDP_DROP : XDP_PASS;
}

SEC("tracepoint/syscalls/sys_enter_sync")
int count_sync(void *ctx)
{
	u32 index = 0;
	u64 *count = bpf_map_lookup_elem(&counters, &index);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
