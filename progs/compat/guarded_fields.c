// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * guarded_fields.c - probe what the running kernel has before using it, as portable tools do:
 * field, type and enum-value existence, enum values that changed numbers, and field sizes.
 * probe_features writes what it found into .bss; read_missing reads a field the running kernel
 * lacks without asking first, so its load is poisoned and it traps if it runs.
 *
 * Exercises: bpf_core_field_exists, bpf_core_field_size, bpf_core_type_exists,
 * bpf_core_type_size, bpf_core_enum_value_exists, bpf_core_enum_value, unguarded poisoned
 * accesses.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* A type no kernel has. */
struct made_up_thing {
	int whatever;
} __attribute__((preserve_access_index));

struct features {
	u64 has_rq_disk;		/* request___pre517.rq_disk */
	u64 has_queue_disk;		/* request_queue.disk */
	u64 has_made_up_type;
	u64 request_size;		/* bpf_core_type_size(struct request) */
	u64 sector_size;		/* bpf_core_field_size(request.__sector) */
	u64 has_seqpacket;		/* enum sock_kind SOCK_KIND_SEQPACKET: local lacks it, never asked */
	u64 has_raw;			/* SOCK_KIND_RAW */
	u64 stream;			/* the running kernel's SOCK_KIND_STREAM */
	u64 dgram;
};

struct features features;

SEC("kprobe/blk_mq_start_request")
int BPF_KPROBE(probe_features, struct request *rq)
{
	features.has_rq_disk = bpf_core_field_exists(((struct request___pre517 *)rq)->rq_disk);
	features.has_queue_disk = bpf_core_field_exists(rq->q->disk);
	features.has_made_up_type = bpf_core_type_exists(struct made_up_thing);
	features.request_size = bpf_core_type_size(struct request);
	features.sector_size = bpf_core_field_size(rq->__sector);
	features.has_raw = bpf_core_enum_value_exists(enum sock_kind, SOCK_KIND_RAW);
	features.stream = bpf_core_enum_value(enum sock_kind, SOCK_KIND_STREAM);
	features.dgram = bpf_core_enum_value(enum sock_kind, SOCK_KIND_DGRAM);
	return 0;
}

SEC("kprobe/blk_mq_start_request")
int BPF_KPROBE(read_missing, struct request *rq)
{
	struct gendisk *disk = BPF_CORE_READ((struct request___pre517 *)rq, rq_disk);

	return disk != 0;
}

char LICENSE[] SEC("license") = "GPL";
