// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * map_values.c - map lookups as C programs write them: the NULL check, an index checked
 * against the value's size, and the mistakes: no check, an off-by-one bound, a signed index
 * checked only from above.
 */
// expect count_checked: accept
// expect count_unchecked: reject R0 invalid mem access 'map_value_or_null'
// expect histogram_in_bounds: accept
// expect histogram_off_by_one: reject invalid access to map value, value_size=64 off=64 size=8
// expect histogram_signed_index: reject math between map_value pointer and register with unbounded min value
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct histogram {
	__u64 buckets[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct histogram);
} histograms SEC(".maps");

SEC("socket")
int count_checked(void *ctx)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&counts, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

SEC("socket")
int count_unchecked(void *ctx)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&counts, &key);

	*count += 1;
	return 0;
}

SEC("socket")
int histogram_in_bounds(void *ctx)
{
	__u32 key = 0, bucket = bpf_get_prandom_u32();
	struct histogram *h = bpf_map_lookup_elem(&histograms, &key);

	if (h && bucket < 8)
		h->buckets[bucket] += 1;
	return 0;
}

SEC("socket")
int histogram_off_by_one(void *ctx)
{
	__u32 key = 0, bucket = bpf_get_prandom_u32();
	struct histogram *h = bpf_map_lookup_elem(&histograms, &key);

	/* Reads one bucket past the end when bucket is 8. */
	if (h && bucket <= 8)
		h->buckets[bucket] += 1;
	return 0;
}

SEC("socket")
int histogram_signed_index(void *ctx)
{
	__u32 key = 0;
	int bucket = (int)bpf_get_prandom_u32();
	struct histogram *h = bpf_map_lookup_elem(&histograms, &key);

	/* A negative bucket passes this check. */
	if (h && bucket < 8)
		h->buckets[bucket] += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
