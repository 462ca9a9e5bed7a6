// SPDX-License-Identifier: GPL-2.0
/*
 * freplace_target.c - an XDP program whose verdict comes from a global function, and a freplace
 * program meant to replace that function at run time (libbpf's fexit/freplace test pattern, in one
 * object). Only the kernel can attach the replacement; the XDP program itself runs anywhere.
 *
 * Exercises: SEC("freplace/FUNC"), a global (non-static) BPF function called by an entry program,
 * BTF FUNC linkage global, xdp_md packet bounds.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int verdict(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	return data + 14 > data_end ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int xdp_main(struct xdp_md *ctx)
{
	return verdict(ctx);
}

SEC("freplace/verdict")
int new_verdict(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
