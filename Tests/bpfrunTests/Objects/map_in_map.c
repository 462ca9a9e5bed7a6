// SPDX-License-Identifier: GPL-2.0
/*
 * map_in_map.c - per-tenant policy tables: an array of maps indexed by tenant id holds one
 * allow-list per tenant, two of them filled at load time by libbpf from __array(values, ...), and
 * a hash of maps keyed by port picks a per-port counter table.
 *
 * Exercises: BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS with inner-map templates,
 * __array initialisers (.rel.maps relocations), lookups through the outer map.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct allow_list {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u8);
} tenant_a SEC(".maps"), tenant_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct allow_list);
} tenants SEC(".maps") = {
	.values = { [0] = &tenant_a, [3] = &tenant_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 16);
	__type(key, __u16);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(max_entries, 4);
		__type(key, __u32);
		__type(value, __u64);
	});
} port_counters SEC(".maps");

SEC("socket")
int tenant_filter(struct __sk_buff *skb)
{
	__u32 tenant = skb->mark & 7, address = skb->remote_ip4;
	void *allow = bpf_map_lookup_elem(&tenants, &tenant);

	if (!allow)
		return 0;
	return bpf_map_lookup_elem(allow, &address) ? skb->len : 0;
}

SEC("socket")
int port_count(struct __sk_buff *skb)
{
	__u16 port = skb->local_port;
	__u32 slot = skb->protocol & 3;
	void *table = bpf_map_lookup_elem(&port_counters, &port);
	__u64 *counter;

	if (!table)
		return skb->len;
	counter = bpf_map_lookup_elem(table, &slot);
	if (counter)
		__sync_fetch_and_add(counter, 1);
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
