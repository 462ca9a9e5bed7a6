// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_firewall.c - a kernel XDP program, unchanged from what one would load into the
 * kernel: drop UDP datagrams to port 11211 (memcached, a classic amplification vector)
 * and truncated IPv4 frames, pass everything else; count IPv4 packets per source address in
 * an LRU hash (old sources are evicted when it fills up).
 *
 *   not IPv4 (e.g. ARP, IPv6)                -> XDP_PASS (2)
 *   shorter than Ethernet + IPv4 header       -> XDP_DROP (1)
 *   IPv4 with ihl < 5                          -> XDP_DROP (1)
 *   UDP to port 11211                          -> XDP_DROP (1)
 *   any other IPv4                             -> XDP_PASS (2)
 *
 * Exercises: SEC("xdp") with struct xdp_md (32-bit loads of data / data_end at ctx offsets
 * 0 and 4), packet bounds checks against data_end, a variable packet offset (ihl * 4),
 * bpf_htons constants, BPF_MAP_TYPE_LRU_HASH with lookup / update(BPF_NOEXIST) / atomic
 * add, 32-bit compare against a big-endian constant.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MEMCACHED_PORT 11211

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);	/* IPv4 source address, network byte order */
	__type(value, __u64);	/* packets */
} src_packets SEC(".maps");

static __always_inline void count_source(__u32 saddr)
{
	__u64 one = 1, *packets;

	packets = bpf_map_lookup_elem(&src_packets, &saddr);
	if (packets)
		__sync_fetch_and_add(packets, 1);
	else
		bpf_map_update_elem(&src_packets, &saddr, &one, BPF_NOEXIST);
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	if (ip->ihl < 5)
		return XDP_DROP;

	count_source(ip->saddr);

	if (ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_DROP;
	if (udp->dest == bpf_htons(MEMCACHED_PORT))
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
