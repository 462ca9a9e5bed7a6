// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * host_types.c - the host's context types as BTF, and nothing else: no programs.
 *
 * The attach layer will resolve CO-RE relocations against the BTF of the hook descriptors,
 * i.e. exactly the types of hooks.h. Until then, tests load this object's BTF as that target
 * ("CO-RE against a target BTF given at load time"). A variable of each type roots it in BTF.
 */
#include "hooks.h"

struct inode host_inode;
struct file host_file;
struct sock_addr host_sock_addr;
struct request host_request;

/*
 * The hook functions' prototypes, as BTF FUNCs: the verifier types a hook program's context
 * (its u64 argument slots) by them.  The bodies are never used; only their BTF matters.
 */
#define HOOK_PROTOTYPE(ret, name, ...) __attribute__((noinline)) ret name(__VA_ARGS__) { return 0; }
HOOK_PROTOTYPE(int, file_open, struct file *file, int flags)
HOOK_PROTOTYPE(int, file_permission, struct file *file, int mask)
HOOK_PROTOTYPE(int, socket_connect, struct sock_addr *addr, int addrlen)
HOOK_PROTOTYPE(long, request_handle, struct request *req)
HOOK_PROTOTYPE(int, task_kill, int pid, int sig)
HOOK_PROTOTYPE(int, buffer_alloc, __u64 size, __u32 flags)
HOOK_PROTOTYPE(long, net_send, __u32 daddr, __u16 dport, __u32 len)
HOOK_PROTOTYPE(int, config_set, const char *key, __u32 keylen, __u64 value)
