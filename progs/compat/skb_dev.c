// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * skb_dev.c - account received packets per device and protocol, as network tracing tools do
 * from a kprobe on the receive path: the skb's device sits in a union inside an anonymous struct
 * inside an anonymous union in a recent kernel, its mark in another union; the program reads
 * them (and the length and protocol) with CO-RE.
 *
 * Exercises: BPF_CORE_READ through three levels of anonymous members, bpf_ntohs, per-device
 * counters in a hash map keyed by a struct.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

struct device_key {
	s32 ifindex;
	u16 protocol;
	u16 pad;
};

struct device_stats {
	u64 packets;
	u64 bytes;
	u64 marked;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct device_key);
	__type(value, struct device_stats);
	__uint(max_entries, 64);
} stats SEC(".maps");

SEC("kprobe/__netif_receive_skb_core")
int BPF_KPROBE(count_receive, struct sk_buff *skb)
{
	struct device_key key = {
		.ifindex = BPF_CORE_READ(skb, dev, ifindex),
		.protocol = bpf_ntohs(BPF_CORE_READ(skb, protocol)),
	};
	struct device_stats zero = {}, *entry;

	bpf_map_update_elem(&stats, &key, &zero, BPF_NOEXIST);
	entry = bpf_map_lookup_elem(&stats, &key);
	if (!entry)
		return 0;
	entry->packets += 1;
	entry->bytes += BPF_CORE_READ(skb, len);
	if (BPF_CORE_READ(skb, mark))
		entry->marked += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
