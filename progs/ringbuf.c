// SPDX-License-Identifier: GPL-2.0
/*
 * ringbuf.c - stream one event per net_send() to user space through a ring buffer:
 *   - a successful send with data: reserve a record in place, fill it, submit it;
 *   - a send of 0 bytes: the reserved record is discarded (nothing worth reporting);
 *   - a failed send: the record is built on the stack and copied with bpf_ringbuf_output.
 * Every call takes a sequence number, so a consumer can see gaps (discards, drops).
 *
 * Exercises: BPF_MAP_TYPE_RINGBUF (type and max_entries only), bpf_ringbuf_reserve (131),
 * bpf_ringbuf_submit (132), bpf_ringbuf_discard (133), bpf_ringbuf_output (130),
 * __sync_fetch_and_add returning the old value.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hooks.h"

enum send_event_kind {
	EV_SENT = 1,
	EV_ERROR = 2,
};

/* 24 bytes, no padding */
struct send_event {
	__u64 seq;		/*  0: 1, 2, 3, ... one per call */
	__u32 daddr;		/*  8 */
	__u16 dport;		/* 12 */
	__u16 kind;		/* 14: enum send_event_kind */
	__u32 len;		/* 16 */
	__s32 ret;		/* 20 */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);	/* bytes; a power of two, multiple of the page size */
} events SEC(".maps");

/* .bss */
__u64 seq;
__u64 dropped;
__u64 discarded;

SEC("fexit/net_send")
int BPF_PROG(emit_send_event, __u32 daddr, __u16 dport, __u32 len, long ret)
{
	__u64 s = __sync_fetch_and_add(&seq, 1) + 1;
	struct send_event *e;

	if (ret < 0) {
		struct send_event ev = {
			.seq = s,
			.daddr = daddr,
			.dport = dport,
			.kind = EV_ERROR,
			.len = len,
			.ret = ret,
		};

		if (bpf_ringbuf_output(&events, &ev, sizeof(ev), 0))
			__sync_fetch_and_add(&dropped, 1);
		return 0;
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	if (len == 0) {
		bpf_ringbuf_discard(e, 0);
		__sync_fetch_and_add(&discarded, 1);
		return 0;
	}
	e->seq = s;
	e->daddr = daddr;
	e->dport = dport;
	e->kind = EV_SENT;
	e->len = len;
	e->ret = ret;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
