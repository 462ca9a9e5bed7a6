// SPDX-License-Identifier: GPL-2.0
/*
 * printk.c - debug log of net_send() to the trace pipe:
 *   ok, full send    "send: 10.0.0.1:443 len=100 ret=100"            (7 args -> helper 177)
 *   short send       the line above, then "short send: 60 of 100"    (2 args -> helper 6)
 *   error            "send failed: port=53 err=-111"                 (2 args -> helper 6)
 *   nothing to send  "send: nothing to send"                         (0 args -> helper 6)
 *
 * Exercises: bpf_printk with up to 3 arguments (bpf_trace_printk, helper 6: fmt, fmt_size,
 * then the arguments in r3..r5) and with more than 3 (bpf_trace_vprintk, helper 177: fmt,
 * fmt_size, a u64 array on the stack, its size in bytes); format strings as static const
 * arrays in .rodata; %u, %ld conversions.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hooks.h"

SEC("fexit/net_send")
int BPF_PROG(log_send, __u32 daddr, __u16 dport, __u32 len, long ret)
{
	if (len == 0) {
		bpf_printk("send: nothing to send");
		return 0;
	}
	if (ret < 0) {
		bpf_printk("send failed: port=%u err=%ld", dport, ret);
		return 0;
	}
	bpf_printk("send: %u.%u.%u.%u:%u len=%u ret=%ld",
		   daddr >> 24, (daddr >> 16) & 0xff, (daddr >> 8) & 0xff, daddr & 0xff,
		   dport, len, ret);
	if (ret < len)
		bpf_printk("short send: %ld of %u", ret, len);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
