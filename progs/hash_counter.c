// SPDX-License-Identifier: GPL-2.0
/*
 * hash_counter.c - per-destination-port traffic accounting for net_send(): packets, bytes
 * and errors per port, and the last peer address seen on each port.
 *
 * Exercises: BTF-defined hash maps (`.maps`, __uint/__type), bpf_map_lookup_elem,
 * bpf_map_update_elem with BPF_NOEXIST (create the slot once, tolerate the race where
 * another thread created it first) and BPF_ANY (overwrite), atomic adds into a map value
 * (__sync_fetch_and_add -> atomic_fetch_add), fexit with three scalar arguments and a
 * `long` return value (ctx[3]).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hooks.h"

struct port_stats {
	__u64 packets;		/*  0 */
	__u64 bytes;		/*  8 */
	__u64 errors;		/* 16 */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);			/* destination port */
	__type(value, struct port_stats);
} send_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);			/* destination port */
	__type(value, __u32);			/* last daddr (host byte order) */
} last_peer SEC(".maps");

SEC("fexit/net_send")
int BPF_PROG(count_send, __u32 daddr, __u16 dport, __u32 len, long ret)
{
	struct port_stats *st;
	__u32 key = dport;

	st = bpf_map_lookup_elem(&send_stats, &key);
	if (!st) {
		struct port_stats zero = {};

		/* -EEXIST when another thread won the race: fine, look it up again. */
		bpf_map_update_elem(&send_stats, &key, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&send_stats, &key);
		if (!st)
			return 0;	/* map full */
	}

	if (ret < 0) {
		__sync_fetch_and_add(&st->errors, 1);
		return 0;
	}
	__sync_fetch_and_add(&st->packets, 1);
	__sync_fetch_and_add(&st->bytes, ret);

	bpf_map_update_elem(&last_peer, &key, &daddr, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
