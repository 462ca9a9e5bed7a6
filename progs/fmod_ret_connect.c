// SPDX-License-Identifier: GPL-2.0
/*
 * fmod_ret_connect.c - egress policy: refuse plaintext protocols. socket_connect() to
 * IPv4 ports 21 (ftp), 23 (telnet) and 25 (smtp) fails with -EPERM without the original
 * function running; every other connect proceeds.
 *
 * Exercises: SEC("fmod_ret/HOOK") returning a negative errno to override the hook (the
 * original is skipped), the previous verdict in the return slot, a direct CO-RE load of a
 * struct argument (addr->family, addr->port), bpf_ntohs() (a be16 byte swap instruction),
 * and __sync_fetch_and_add on .bss counters.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "hooks.h"

/* .bss */
__u64 connects_checked;
__u64 connects_denied;
__u16 last_denied_port;

static __always_inline int plaintext_port(__u16 port)
{
	return port == 21 || port == 23 || port == 25;
}

SEC("fmod_ret/socket_connect")
int BPF_PROG(deny_plaintext_connect, struct sock_addr *addr, int addrlen, int ret)
{
	__u16 port;

	/* An earlier fmod_ret program already overrode the call: keep its verdict. */
	if (ret != 0)
		return ret;

	__sync_fetch_and_add(&connects_checked, 1);
	if (addrlen < (int)sizeof(struct sock_addr))
		return 0;	/* let the original function report the bad length */
	if (addr->family != HOOK_AF_INET)
		return 0;

	port = bpf_ntohs(addr->port);
	if (plaintext_port(port)) {
		__sync_fetch_and_add(&connects_denied, 1);
		last_denied_port = port;
		return -EPERM;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
