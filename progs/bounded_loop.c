// SPDX-License-Identifier: GPL-2.0
/*
 * bounded_loop.c - request path analysis after request_handle(): copy the request's path,
 * then walk it once to find its length, its depth (number of '/') and its FNV-1a 64-bit
 * hash; remember the last result and count deep paths (depth > 3) and failed requests.
 *
 * Exercises: a real bounded loop in the bytecode (constant trip count 32, unrolling
 * disabled with #pragma clang loop unroll(disable), early exit at the NUL byte: a backward
 * conditional jump), byte loads from the stack at a variable offset, 64-bit multiply,
 * bpf_core_read() of an array member of a hook argument (bpf_probe_read_kernel with a
 * CO-RE relocated source offset), fexit on a hook returning long.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hooks.h"

#define PATH_LEN 32
#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

struct path_info {
	__u64 hash;		/*  0 */
	__u32 len;		/*  8 */
	__u32 depth;		/* 12 */
	__s64 status;		/* 16: request_handle's return value */
};

/* .bss */
struct path_info last_path;
__u64 deep_paths;
__u64 failed_requests;

SEC("fexit/request_handle")
int BPF_PROG(analyze_path, struct request *req, long ret)
{
	char path[PATH_LEN];
	__u64 hash = FNV64_OFFSET;
	__u32 depth = 0, len = 0;
	int i;

	if (ret < 0)
		__sync_fetch_and_add(&failed_requests, 1);

	if (bpf_core_read(path, sizeof(path), &req->path))
		return 0;

#pragma clang loop unroll(disable)
	for (i = 0; i < PATH_LEN; i++) {
		char c = path[i];

		if (c == '\0')
			break;
		if (c == '/')
			depth++;
		hash ^= (__u8)c;
		hash *= FNV64_PRIME;
		len++;
	}

	last_path.hash = hash;
	last_path.len = len;
	last_path.depth = depth;
	last_path.status = ret;
	if (depth > 3)
		__sync_fetch_and_add(&deep_paths, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
