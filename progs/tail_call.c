// SPDX-License-Identifier: GPL-2.0
/*
 * tail_call.c - per-method admission checks for request_handle(), dispatched through a
 * program array indexed by the request method:
 *   REQ_GET    (0) -> check_get:    always allowed (counted)
 *   REQ_PUT    (1) -> check_put:    bodies over 4096 bytes fail with -E2BIG
 *   REQ_DELETE (2) -> check_delete: the service is append-only: -EPERM
 *   REQ_POST   (3) -> empty slot in the object (the host may install a program there)
 *   others         -> out of range
 * When the tail call does not happen (empty slot, index out of range) the dispatcher
 * continues after bpf_tail_call and allows the request.
 *
 * Exercises: BPF_MAP_TYPE_PROG_ARRAY initialised in the object with
 * __array(values, ...) (.maps relocations R_BPF_64_ABS64 against the program symbols in
 * .rel.maps), bpf_tail_call (helper 12) from a BPF_PROG (the ctx pointer is passed on),
 * four programs sharing one section name, fmod_ret verdicts from the tail-called programs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hooks.h"

#define MAX_PUT_BODY 4096

/* The handlers are defined below; the map's initialiser needs their addresses. */
int check_get(unsigned long long *ctx);
int check_put(unsigned long long *ctx);
int check_delete(unsigned long long *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, int (unsigned long long *ctx));
} method_checks SEC(".maps") = {
	.values = {
		[REQ_GET] = (void *)&check_get,
		[REQ_PUT] = (void *)&check_put,
		[REQ_DELETE] = (void *)&check_delete,
	},
};

/* .bss */
__u64 dispatched;
__u64 fallthrough;
__u64 gets;
__u64 puts_rejected;
__u64 deletes_rejected;

SEC("fmod_ret/request_handle")
int BPF_PROG(dispatch_request, struct request *req, long ret)
{
	if (ret != 0)
		return ret;

	__sync_fetch_and_add(&dispatched, 1);
	bpf_tail_call(ctx, &method_checks, req->method);

	/* Only reached when there is no program for this method. */
	__sync_fetch_and_add(&fallthrough, 1);
	return 0;
}

SEC("fmod_ret/request_handle")
int BPF_PROG(check_get, struct request *req, long ret)
{
	__sync_fetch_and_add(&gets, 1);
	return 0;
}

SEC("fmod_ret/request_handle")
int BPF_PROG(check_put, struct request *req, long ret)
{
	if (req->len > MAX_PUT_BODY) {
		__sync_fetch_and_add(&puts_rejected, 1);
		return -E2BIG;
	}
	return 0;
}

SEC("fmod_ret/request_handle")
int BPF_PROG(check_delete, struct request *req, long ret)
{
	__sync_fetch_and_add(&deletes_rejected, 1);
	return -EPERM;
}

char LICENSE[] SEC("license") = "GPL";
