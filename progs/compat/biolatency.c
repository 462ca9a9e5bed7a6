// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * biolatency.c - block I/O latency histograms per disk, the way biolatency tools do: issue
 * stamps the request, completion adds log2(latency in µs) to the disk's histogram. The disk is
 * found through the request on any kernel: rq->rq_disk before 5.17, rq->q->disk after, chosen
 * with bpf_core_field_exists.
 *
 * Exercises: kprobes with BPF_KPROBE, bpf_core_field_exists choosing between two layouts, hash
 * maps of histograms keyed by a struct, a log2 bucket loop, bpf_ktime_get_ns.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define BUCKETS 24

struct disk_key {
	s32 major;
	s32 minor;
};

struct histogram {
	u64 slots[BUCKETS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct request *);
	__type(value, u64);
	__uint(max_entries, 1024);
} issued SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct disk_key);
	__type(value, struct histogram);
	__uint(max_entries, 16);
} histograms SEC(".maps");

static struct gendisk *request_disk(struct request *rq)
{
	if (bpf_core_field_exists(((struct request___pre517 *)rq)->rq_disk))
		return BPF_CORE_READ((struct request___pre517 *)rq, rq_disk);
	return BPF_CORE_READ(rq, q, disk);
}

static u32 log2_slot(u64 value)
{
	u32 slot = 0;

	for (int i = 0; i < BUCKETS - 1 && value > 1; i++) {
		value >>= 1;
		slot++;
	}
	return slot;
}

SEC("kprobe/blk_mq_start_request")
int BPF_KPROBE(block_issue, struct request *rq)
{
	u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&issued, &rq, &now, BPF_ANY);
	return 0;
}

SEC("kprobe/blk_mq_end_request")
int BPF_KPROBE(block_complete, struct request *rq)
{
	u64 *start = bpf_map_lookup_elem(&issued, &rq);
	static const struct histogram zero;
	struct histogram *histogram;

	if (!start)
		return 0;
	u64 latency_us = (bpf_ktime_get_ns() - *start) / 1000;
	struct gendisk *disk = request_disk(rq);
	struct disk_key key = {
		.major = BPF_CORE_READ(disk, major),
		.minor = BPF_CORE_READ(disk, first_minor),
	};
	bpf_map_update_elem(&histograms, &key, &zero, BPF_NOEXIST);
	histogram = bpf_map_lookup_elem(&histograms, &key);
	if (histogram) {
		u32 slot = log2_slot(latency_us);
		if (slot < BUCKETS)
			__sync_fetch_and_add(&histogram->slots[slot], 1);
	}
	bpf_map_delete_elem(&issued, &rq);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
