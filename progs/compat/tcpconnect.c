// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tcpconnect.c - trace IPv4 connect() the way tcpconnect tools do: tcp_v4_connect's socket is
 * kept per thread; on return the addresses and ports are read from struct sock_common (whose
 * address and port pairs sit in anonymous structs inside unions), counted per destination port
 * and reported through a perf buffer. A .rodata port filter holds up to four ports.
 *
 * Exercises: kprobe/kretprobe, BPF_CORE_READ into anonymous structs of anonymous unions,
 * bpf_ntohs from bpf_endian.h, hash map counting with BPF_NOEXIST, PERF_EVENT_ARRAY.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

/* 32 bytes */
struct connect_event {
	u32 pid;			/*  0 */
	u32 saddr;			/*  4 */
	u32 daddr;			/*  8 */
	u16 dport;			/* 12: host order */
	u16 sport;			/* 14 */
	char comm[TASK_COMM_LEN];	/* 16 */
};

const volatile u16 filter_ports[4] = {};
const volatile u32 filter_port_count = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, u32);
	__type(value, struct sock *);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, u16);
	__type(value, u64);
} connects_by_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

static bool port_filtered(u16 port)
{
	if (filter_port_count == 0)
		return false;
	for (u32 i = 0; i < 4 && i < filter_port_count; i++)
		if (filter_ports[i] == port)
			return false;
	return true;
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(tcp_v4_connect_entry, struct sock *sk)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&sockets, &tid, &sk, BPF_ANY);
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(tcp_v4_connect_exit, int ret)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id;
	struct sock **skp = bpf_map_lookup_elem(&sockets, &tid);
	struct connect_event event = {};
	u64 one = 1, *count;

	if (!skp)
		return 0;
	if (ret)
		goto end;
	struct sock *sk = *skp;
	u16 dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (port_filtered(dport))
		goto end;
	event.pid = id >> 32;
	event.dport = dport;
	event.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	event.saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
	event.daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	bpf_get_current_comm(event.comm, sizeof(event.comm));
	count = bpf_map_lookup_elem(&connects_by_port, &dport);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&connects_by_port, &dport, &one, BPF_NOEXIST);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));
end:
	bpf_map_delete_elem(&sockets, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
