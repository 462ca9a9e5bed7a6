// SPDX-License-Identifier: GPL-2.0
/*
 * globals.c - fault injection for buffer_alloc(): make every Nth allocation fail with a
 * configurable errno, and refuse sizes above a limit with -E2BIG, so the host's error
 * paths get exercised in tests. Configuration is read-only data the host sets before load
 * (skeleton style); the on/off switch and the statistics are writable globals the host
 * reads and writes while the program is attached.
 *
 * Exercises: global variables in every kind of data section:
 *   .rodata      const volatile fail_every, fault_errno (host may change them before load)
 *   .rodata.cfg  const volatile max_alloc, and a const string (custom read-only section)
 *   .data        enabled = 1, generation = 7 (initialised, writable)
 *   .bss         calls, injected, and a *static* nth_counter (static VAR linkage)
 *   .data.stats  struct fault_stats (custom writable section, initialised)
 * and SEC("fmod_ret/HOOK"), 64-bit modulo by a runtime value.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hooks.h"

/* .rodata: the host may rewrite these before the object is loaded. */
const volatile __u32 fail_every = 3;		/* fail every Nth allocation; 0 = never */
const volatile __s32 fault_errno = ENOMEM;	/* errno of an injected failure */

/* .rodata.cfg */
const volatile __u64 max_alloc SEC(".rodata.cfg") = 1 << 20;	/* larger sizes: -E2BIG */
const char cfg_name[16] SEC(".rodata.cfg") = "alloc-faults";

/* .data */
__u32 enabled = 1;		/* host clears it to pause injection */
__u32 generation = 7;		/* bumped by the program on every injected fault */

/* .bss */
__u64 calls;
__u64 injected;
static __u64 nth_counter;	/* allocations considered for the every-Nth rule */

/* .data.stats */
struct fault_stats {
	__u64 too_big;		/*  0 */
	__u64 nth;		/*  8 */
	__u64 last_size;	/* 16 */
	__u64 magic;		/* 24 */
};
struct fault_stats stats SEC(".data.stats") = { .magic = 0xfa017 };

SEC("fmod_ret/buffer_alloc")
int BPF_PROG(inject_alloc_fault, __u64 size, __u32 flags, int ret)
{
	if (ret != 0)
		return ret;

	__sync_fetch_and_add(&calls, 1);
	if (!enabled)
		return 0;

	if (size > max_alloc) {
		stats.too_big++;
		stats.last_size = size;
		injected++;
		generation++;
		return -E2BIG;
	}

	nth_counter++;
	if (fail_every != 0 && nth_counter % fail_every == 0) {
		stats.nth++;
		stats.last_size = size;
		injected++;
		generation++;
		return -fault_errno;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
