// SPDX-License-Identifier: GPL-2.0
/*
 * kernel_only.c - one object mixing programs this runtime runs with program types only the kernel
 * has, as tool collections do (one skeleton, programs auto-loaded per kernel feature), plus one
 * section name libbpf does not know.
 *
 * Exercises: section names sk_reuseport, lirc_mode2, kprobe.multi, lsm_cgroup, raw_tp.w, a bare
 * fentry (its target set at run time by libbpf), a "?" (not auto-loaded) socket filter, an unknown
 * section, and xdp and tc programs beside them.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int tc_mark(struct __sk_buff *skb)
{
	return skb->mark == 7 ? 2 : 0;
}

SEC("?socket")
int optional_filter(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("sk_reuseport")
int select_socket(struct sk_reuseport_md *reuse)
{
	return reuse->hash & 1 ? SK_PASS : SK_DROP;
}

SEC("lirc_mode2")
int decode_remote(unsigned int *sample)
{
	return *sample > 100;
}

SEC("kprobe.multi/vfs_*")
int trace_vfs(void *ctx)
{
	return 0;
}

SEC("lsm_cgroup/socket_bind")
int restrict_bind(void *ctx)
{
	return 1;
}

SEC("raw_tp.w/bpf_testmod_test_writable_bare")
int writable(void *ctx)
{
	return 0;
}

SEC("fentry")
int retargetable(void *ctx)
{
	return 0;
}

SEC("custom/unknown")
int mystery(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
