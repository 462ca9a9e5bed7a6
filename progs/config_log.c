// SPDX-License-Identifier: GPL-2.0
/*
 * config_log.c - audit of configuration changes: on every config_set(key, keylen, value)
 * format "KEY=VALUE" into a global buffer the host can read (the key is a slice of the
 * caller's buffer, not NUL-terminated, and is cut to 15 bytes).
 *
 * Exercises: bpf_probe_read_user (112) with a size bounded by a comparison
 * (ARG_CONST_SIZE_OR_ZERO with a verifier-tracked range), bpf_snprintf (165) with a
 * format string in .rodata and a u64 argument array holding a pointer to a stack buffer
 * (for %s) and a number (%llu); its return value (length including the NUL); fentry on a
 * hook with a pointer, a u32 and a u64 argument.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hooks.h"

#define KEY_MAX 15

/* .bss */
char last_setting[48];
__s64 last_len;			/* bpf_snprintf's result */
__u64 settings;

static const char fmt[] = "%s=%llu";

SEC("fentry/config_set")
/*
 * keylen is a __u32 argument; its slot holds it zero-extended, and the program takes the
 * whole 64-bit slot. Declared as __u32, clang would compare and clamp only the low 32 bits
 * (w2) and pass the register on as the size, leaving a verifier that tracks the full
 * 64-bit register (the kernel's) with an unbounded size.
 */
int BPF_PROG(log_config_set, const char *key, __u64 keylen, __u64 value)
{
	char name[KEY_MAX + 1] = {};
	__u64 args[2];
	__u64 n = keylen;

	if (n > KEY_MAX)
		n = KEY_MAX;
	if (bpf_probe_read_user(name, n, key))
		return 0;

	args[0] = (__u64)(unsigned long)name;
	args[1] = value;
	last_len = bpf_snprintf(last_setting, sizeof(last_setting), fmt, args, sizeof(args));
	__sync_fetch_and_add(&settings, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
