// SPDX-License-Identifier: GPL-2.0
/*
 * tail_dispatch.c - a packet parser split into stages chained by tail calls through a program
 * array that libbpf fills at load time, next to programs this runtime cannot run: one emits to a
 * perf event array, one calls a helper id no kernel has, one sits in a kernel-only section.
 * Running the parser must not depend on any of them.
 *
 * Exercises: BPF_MAP_TYPE_PROG_ARRAY with __array(values, int (void *)) initialisers, bpf_tail_call,
 * per-program linking and loading (only the entry program, its subprograms, its maps and the
 * programs its tail calls reach are linked and bound).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct stage_result {
	__u64 stage;
	__u64 value;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stage_result);
} results SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

static __noinline int record(__u64 stage, __u64 value)
{
	__u32 zero = 0;
	struct stage_result *result = bpf_map_lookup_elem(&results, &zero);

	if (!result)
		return 0;
	result->stage = stage;
	result->value = value;
	return (int)(stage * 100 + value);
}

SEC("socket")
int parse_l4(struct __sk_buff *skb)
{
	return record(2, skb->len);
}

int parse_l3(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} stages SEC(".maps") = {
	.values = { [1] = (void *)&parse_l3, [2] = (void *)&parse_l4 },
};

SEC("socket")
int parse_l3(struct __sk_buff *skb)
{
	record(1, skb->len);
	bpf_tail_call(skb, &stages, 2);
	return 0;
}

SEC("socket")
int parse_l2(struct __sk_buff *skb)
{
	record(0, skb->len);
	bpf_tail_call(skb, &stages, 1);
	return 0;
}

SEC("socket")
int report(struct __sk_buff *skb)
{
	__u64 len = skb->len;

	bpf_perf_event_output(skb, &events, BPF_F_CURRENT_CPU, &len, sizeof(len));
	return 0;
}

static long (*bpf_future_helper)(void *ctx) = (void *)9999;

SEC("socket")
int future(struct __sk_buff *skb)
{
	return bpf_future_helper(skb);
}

SEC("freplace/parse_l2")
int replacement(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
