// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * host_hooks.c - the host's hook functions as BTF: one FUNC (with its FUNC_PROTO) per hook of
 * hooks.h, plus the context types they take.  The verifier types a hook program's context
 * (its u64 argument slots, and the structs its pointer arguments point to) by this BTF:
 * `bpfrun verify|run --host-btf progs/build/host_hooks.o`.  The bodies are never run.
 */
#include "hooks.h"

#define HOOK_PROTOTYPE(ret, name, ...) __attribute__((noinline)) ret name(__VA_ARGS__) { return 0; }
HOOK_PROTOTYPE(int, file_open, struct file *file, int flags)
HOOK_PROTOTYPE(int, file_permission, struct file *file, int mask)
HOOK_PROTOTYPE(int, socket_connect, struct sock_addr *addr, int addrlen)
HOOK_PROTOTYPE(long, request_handle, struct request *req)
HOOK_PROTOTYPE(int, task_kill, int pid, int sig)
HOOK_PROTOTYPE(int, buffer_alloc, __u64 size, __u32 flags)
HOOK_PROTOTYPE(long, net_send, __u32 daddr, __u16 dport, __u32 len)
HOOK_PROTOTYPE(int, config_set, const char *key, __u32 keylen, __u64 value)

/* Structs reached only through pointer members (file->f_inode) would be forward declarations in
 * the BTF; one variable of each makes the compiler emit their full layouts. */
struct inode host_hooks_inode_layout;
