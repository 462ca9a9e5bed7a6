// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * loops.c - bounded loops and bpf_loop callbacks as C programs write them; and a callback
 * whose index is checked one too high.
 */
// expect sum_value_words: accept
// expect callback_checked_index: accept
// expect callback_off_by_one: reject variable-offset write to stack
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct samples {
	__u32 words[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct samples);
} table SEC(".maps");

SEC("socket")
int sum_value_words(void *ctx)
{
	__u32 key = 0, sum = 0;
	struct samples *s = bpf_map_lookup_elem(&table, &key);

	if (!s)
		return 0;
	for (int i = 0; i < 32; i++)
		sum += s->words[i];
	return sum;
}

struct buffer {
	__u8 bytes[16];
};

static long fill_checked(__u64 index, void *ctx)
{
	struct buffer *buffer = ctx;

	if (index >= sizeof(buffer->bytes))
		return 1;
	buffer->bytes[index] = index;
	return 0;
}

SEC("socket")
int callback_checked_index(void *ctx)
{
	struct buffer buffer = {};

	bpf_loop(64, fill_checked, &buffer, 0);
	return buffer.bytes[3];
}

static long fill_off_by_one(__u64 index, void *ctx)
{
	struct buffer *buffer = ctx;

	if (index > sizeof(buffer->bytes))
		return 1;
	((volatile __u8 *)buffer->bytes)[index] = index;
	return 0;
}

SEC("socket")
int callback_off_by_one(void *ctx)
{
	struct buffer buffer = {};

	bpf_loop(64, fill_off_by_one, &buffer, 0);
	return buffer.bytes[3];
}

char LICENSE[] SEC("license") = "GPL";
