// SPDX-License-Identifier: GPL-2.0
/*
 * sock_filter.c - a kernel socket filter, unchanged from what one would attach with
 * SO_ATTACH_BPF: keep IPv4 packets, cut to a snap length of 96 bytes, and drop everything
 * else; count kept and dropped packets in an array map.
 *
 * It reads only the __sk_buff fields len (offset 0) and protocol (offset 16, the EtherType
 * in network byte order in the low 16 bits), so it also runs over a context given as raw
 * memory laid out like struct __sk_buff (at least 20 bytes; the uapi struct is 192).
 *
 * Returns the number of bytes to keep: 0 = drop, min(len, 96) for IPv4.
 *
 * Exercises: SEC("socket") (BPF_PROG_TYPE_SOCKET_FILTER), direct context field loads at
 * fixed offsets, a BPF_MAP_TYPE_ARRAY counter, returning a length.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SNAP_LEN 96

enum { KEPT = 0, DROPPED = 1 };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline void count(__u32 verdict)
{
	__u64 *n = bpf_map_lookup_elem(&verdicts, &verdict);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("socket")
int sock_ipv4_snap(struct __sk_buff *skb)
{
	__u32 len = skb->len;

	if (skb->protocol != bpf_htons(ETH_P_IP)) {
		count(DROPPED);
		return 0;
	}
	count(KEPT);
	return len < SNAP_LEN ? len : SNAP_LEN;
}

char LICENSE[] SEC("license") = "GPL";
