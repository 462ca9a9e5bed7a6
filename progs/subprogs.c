// SPDX-License-Identifier: GPL-2.0
/*
 * subprogs.c - classify outgoing traffic of net_send(): count sends per port class
 * (well-known < 1024, registered < 49152, dynamic), remember a hash of the last flow, and
 * total the bytes sent with each send clamped to one MTU (an estimate of on-wire packets).
 *
 * Exercises: BPF-to-BPF calls of three real subprograms in .text:
 *   - port_class(): a *global* __noinline function (FUNC linkage global; the verifier checks
 *     it on its own, from its BTF prototype, with scalar arguments);
 *   - flow_hash(), clamp_len(): *static* __noinline functions (FUNC linkage static;
 *     verified in the caller's context);
 *   - flow_hash() itself calls mix32(), a static subprogram calling nothing (call depth 2).
 * The global callee is called through a relocation against its own symbol (imm -1), the
 * static ones against the .text section symbol (imm = target index - 1).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hooks.h"

#define MTU 1500

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} class_counts SEC(".maps");

/* .bss */
__u32 last_hash;
__u64 clamped_bytes;

/* Global subprogram: 0 = well-known, 1 = registered, 2 = dynamic port. */
__noinline int port_class(__u32 port)
{
	if (port < 1024)
		return 0;
	if (port < 49152)
		return 1;
	return 2;
}

static __noinline __u32 mix32(__u32 h)
{
	/* murmur3 finaliser */
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

static __noinline __u32 flow_hash(__u32 daddr, __u32 dport)
{
	return mix32(daddr ^ (dport << 16) ^ 0x9e3779b9);
}

static __noinline __u64 clamp_len(__u64 len, __u64 max)
{
	return len > max ? max : len;
}

SEC("fexit/net_send")
int BPF_PROG(classify_send, __u32 daddr, __u16 dport, __u32 len, long ret)
{
	__u32 cls = port_class(dport);
	__u64 *count;

	count = bpf_map_lookup_elem(&class_counts, &cls);
	if (count)
		__sync_fetch_and_add(count, 1);

	last_hash = flow_hash(daddr, dport);
	if (ret > 0)
		__sync_fetch_and_add(&clamped_bytes, clamp_len(ret, MTU));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
