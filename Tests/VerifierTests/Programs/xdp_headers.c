// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * xdp_headers.c - packet ranges with a variable-length IPv4 header, as real XDP programs
 * parse them: Ethernet, then IPv4 (ihl * 4 bytes), then UDP. Every read must be proven
 * inside the packet by a comparison against data_end.
 */
// expect parse_udp: accept
// expect udp_without_its_own_check: reject invalid access to packet
// expect ip_checked_one_byte_short: reject invalid access to packet
// expect udp_behind_a_fixed_header: accept
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* The UDP destination port of an IPv4 frame, or 0. */
SEC("xdp")
int parse_udp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp;

	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP || ip->ihl < 5)
		return XDP_PASS;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_DROP;
	return udp->dest == bpf_htons(11211) ? XDP_DROP : XDP_PASS;
}

/* The UDP header sits behind the variable IPv4 header, which the first check does not cover. */
SEC("xdp")
int udp_without_its_own_check(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct udphdr *udp;

	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	udp = (void *)ip + ip->ihl * 4;
	return udp->dest == bpf_htons(11211) ? XDP_DROP : XDP_PASS;
}

/* The check stops one byte before the end of the IPv4 header it then reads. */
SEC("xdp")
int ip_checked_one_byte_short(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);

	if ((void *)ip + sizeof(*ip) - 1 > data_end)
		return XDP_DROP;
	return ip->daddr == bpf_htonl(0x0a000001) ? XDP_DROP : XDP_PASS;
}

/* Without options the UDP header is at a constant offset; one check covers everything. */
SEC("xdp")
int udp_behind_a_fixed_header(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > data_end)
		return XDP_DROP;
	if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	return udp->dest == bpf_htons(53) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
