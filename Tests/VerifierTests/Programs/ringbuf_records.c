// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ringbuf_records.c - ring-buffer records reserved, filled and given back on every path; and
 * the mistakes: a record leaked on an early return, and a record written after its submit.
 */
// expect submit_or_discard: accept
// expect leak_on_early_return: reject Unreleased reference
// expect write_after_submit: reject invalid mem access 'scalar'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u64 time;
	__u32 value;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("socket")
int submit_or_discard(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->time = bpf_ktime_get_ns();
	e->value = bpf_get_prandom_u32();
	e->flags = 0;
	if (e->value & 1)
		bpf_ringbuf_discard(e, 0);
	else
		bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("socket")
int leak_on_early_return(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->value = bpf_get_prandom_u32();
	if (e->value == 0)
		return 1;	/* forgets the record */
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("socket")
int write_after_submit(void *ctx)
{
	struct event *volatile e = bpf_ringbuf_reserve(&events, sizeof(struct event), 0);

	if (!e)
		return 0;
	e->value = 1;
	bpf_ringbuf_submit(e, 0);
	e->flags = 1;	/* the record belongs to the consumer now */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
