#include "host_hooks.h"

#include "bpfrun_attach.h"

static __thread __u64 original_calls;

__u64 host_hooks_original_calls(void) { return original_calls; }

/* Each original denies (returns its negative argument) when the argument that says so is
 * negative, and allows (0) otherwise, so that tests can make the original deny. */

BPFRUN_HOOK(int, file_open, BPFRUN_HOOK_OVERRIDABLE_ERRNO, struct file *file, int flags)
{
	original_calls++;
	return flags < 0 ? flags : 0;
}

BPFRUN_HOOK(int, file_permission, BPFRUN_HOOK_OVERRIDABLE_ERRNO, struct file *file, int mask)
{
	original_calls++;
	return mask < 0 ? mask : 0;
}

BPFRUN_HOOK(int, socket_connect, BPFRUN_HOOK_OVERRIDABLE_ERRNO, struct sock_addr *addr, int addrlen)
{
	original_calls++;
	return addrlen < 0 ? addrlen : 0;
}

/* The status comes from the handler: req->status when set, else 200. */
BPFRUN_HOOK(long, request_handle, BPFRUN_HOOK_OBSERVE_ONLY, struct request *req)
{
	original_calls++;
	return req && req->status ? req->status : 200;
}

BPFRUN_HOOK(int, task_kill, BPFRUN_HOOK_OVERRIDABLE_ERRNO, int pid, int sig)
{
	original_calls++;
	return sig < 0 ? sig : 0;
}

/* -ENOMEM above 1 GiB. */
BPFRUN_HOOK(int, buffer_alloc, BPFRUN_HOOK_OVERRIDABLE_ERRNO, __u64 size, __u32 flags)
{
	original_calls++;
	return size > (1ull << 30) ? -ENOMEM : 0;
}

/* The bytes sent: all of them. */
BPFRUN_HOOK(long, net_send, BPFRUN_HOOK_OVERRIDABLE_ERRNO, __u32 daddr, __u16 dport, __u32 len)
{
	original_calls++;
	return len;
}

/* -EINVAL for an empty key. */
BPFRUN_HOOK(int, config_set, BPFRUN_HOOK_OVERRIDABLE_ERRNO, const char *key, __u32 keylen, __u64 value)
{
	original_calls++;
	return keylen == 0 ? -EINVAL : 0;
}
