// SPDX-License-Identifier: GPL-2.0
/*
 * map_extra.c - a bloom filter in front of a hash map (skip the hash lookup for keys certainly
 * absent), and an arena whose user-space address is fixed: both need map_extra, which libbpf 1.3+
 * declares with __ulong(map_extra, ...) as an anonymous enum member (64 bits for the arena).
 *
 * Exercises: __ulong(...) attributes (ENUM and ENUM64 members of the map definition),
 * BPF_MAP_TYPE_BLOOM_FILTER (value only), BPF_MAP_TYPE_ARENA (33) with BPF_F_MMAPABLE,
 * bpf_map_peek_elem on a bloom filter.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* libbpf 1.3's macro, absent from libbpf 1.1's headers. */
#ifndef __ulong
#define ___concat_expanded(a, b) a ## b
#define ___concat(a, b) ___concat_expanded(a, b)
#define __ulong(name, val) enum { ___concat(__unique_value, __COUNTER__) = val } name
#endif

#define BPF_MAP_TYPE_ARENA_NUMBER 33

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__type(value, __u32);
	__uint(max_entries, 1000);
	__ulong(map_extra, 3);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARENA_NUMBER);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
	__ulong(map_extra, 0x100000000000ULL);
} arena SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1000);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

SEC("socket")
int bloom_lookup(struct __sk_buff *skb)
{
	__u32 key = skb->mark;
	__u64 *value;

	if (bpf_map_peek_elem(&bloom, &key) != 0)
		return 0;
	value = bpf_map_lookup_elem(&values, &key);
	return value ? *value : 0;
}

SEC("socket")
int hash_only(struct __sk_buff *skb)
{
	__u32 key = skb->mark;
	__u64 *value = bpf_map_lookup_elem(&values, &key);

	return value ? *value : 1;
}

char LICENSE[] SEC("license") = "GPL";
