// SPDX-License-Identifier: GPL-2.0
/*
 * legacy_maps.c - an old samples/bpf-style socket filter: map definitions are plain structs in the
 * "maps" section, which libbpf 0.x read and libbpf 1.x refuses. A second counter lives in a
 * BTF-defined map, and one program uses only that.
 *
 * Exercises: struct bpf_map_def in SEC("maps") (type, key_size, value_size, max_entries,
 * map_flags), load_byte-style packet reads through the context, a BTF-defined map beside them.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

/* libbpf 0.x's definition, gone from libbpf 1.x's headers. */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") proto_count = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(long),
	.max_entries = 256,
};

struct bpf_map_def SEC("maps") flows = {
	.type = BPF_MAP_TYPE_LRU_HASH,
	.key_size = sizeof(__u64),
	.value_size = sizeof(__u64),
	.max_entries = 4096,
	.map_flags = 0,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

SEC("socket")
int bpf_prog1(struct __sk_buff *skb)
{
	__u32 index = skb->protocol & 0xff;
	long *value;

	if (skb->pkt_type != 0)
		return 0;
	value = bpf_map_lookup_elem(&proto_count, &index);
	if (value)
		__sync_fetch_and_add(value, skb->len);
	return 0;
}

SEC("socket")
int count_packets(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *value = bpf_map_lookup_elem(&packets, &zero);

	if (value)
		*value += 1;
	return skb->len;
}

char _license[] SEC("license") = "GPL";
