// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bindsnoop.c - trace bind() on IPv4 sockets the way bindsnoop tools do: a kprobe on inet_bind
 * keeps the socket per thread, the kretprobe reads the bound port and protocol through the
 * socket's struct sock (CO-RE, through the kernel's anonymous unions) and reports them.
 *
 * Exercises: kprobe/kretprobe with BPF_KPROBE/BPF_KRETPROBE, BPF_CORE_READ chains through
 * anonymous unions (sk->__sk_common.skc_num), bpf_probe_read_kernel, PERF_EVENT_ARRAY.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* 32 bytes */
struct bind_event {
	u32 pid;			/*  0 */
	u16 port;			/*  4 */
	u16 protocol;			/*  6 */
	s32 ret;			/*  8 */
	u32 family;			/* 12 */
	char comm[TASK_COMM_LEN];	/* 16 */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, u32);
	__type(value, struct socket *);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

SEC("kprobe/inet_bind")
int BPF_KPROBE(ipv4_bind_entry, struct socket *socket)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&sockets, &tid, &socket, BPF_ANY);
	return 0;
}

SEC("kretprobe/inet_bind")
int BPF_KRETPROBE(ipv4_bind_exit, int ret)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id;
	struct socket **socket = bpf_map_lookup_elem(&sockets, &tid);
	struct bind_event event = {};

	if (!socket)
		return 0;
	struct sock *sock = BPF_CORE_READ(*socket, sk);
	event.pid = id >> 32;
	event.ret = ret;
	event.port = BPF_CORE_READ(sock, __sk_common.skc_num);
	event.family = BPF_CORE_READ(sock, __sk_common.skc_family);
	event.protocol = BPF_CORE_READ(sock, sk_protocol);
	bpf_get_current_comm(event.comm, sizeof(event.comm));
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));
	bpf_map_delete_elem(&sockets, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
