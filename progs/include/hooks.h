/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hooks.h - the host process's hook functions and the context types they take.
 *
 * This header is the contract between the host (which defines the hook functions and
 * describes them to the runtime as HookDescriptors) and the BPF programs in progs/ (which
 * attach to them with SEC("fentry/HOOK"), SEC("fexit/HOOK"), SEC("fmod_ret/HOOK") and
 * SEC("lsm/HOOK")).  It compiles both for `clang -target bpf` and for the host's own C code:
 *
 *   - for BPF every struct carries __attribute__((preserve_access_index)), so each field
 *     access in a program emits a CO-RE relocation that the loader resolves against the
 *     host's BTF (the types below, as the hook descriptors describe them);
 *   - for the host the attribute is dropped and the hook prototypes are declared.
 *
 * A BPF_PROG(...) program sees the hook's arguments as an array of u64 slots: slot i holds
 * argument i (integers widened: signed ones sign-extended, unsigned ones zero-extended);
 * for fexit / fmod_ret / lsm, slot nargs holds the return value.
 *
 * Layouts are fixed (x86-64, natural alignment) and spelled out in the comments, so that
 * tests can build the argument memory byte by byte.
 */
#ifndef PROGS_HOOKS_H
#define PROGS_HOOKS_H

#include <linux/types.h>

#if defined(__bpf__)
#define __hook_ctx __attribute__((preserve_access_index))
#else
#define __hook_ctx
#endif

/* ---- context types ------------------------------------------------------------------ */

/* size 32 */
struct inode {
	__u64 i_ino;		/*  0 */
	__u32 i_uid;		/*  8 */
	__u32 i_gid;		/* 12 */
	__u16 i_mode;		/* 16: S_IFREG | 0644 = 0x81a4 */
	__u16 i_nlink;		/* 18 */
				/* 20: 4 bytes padding */
	__u64 i_size;		/* 24 */
} __hook_ctx;

/* f_mode bits */
#define FMODE_READ	0x1
#define FMODE_WRITE	0x2
#define FMODE_EXEC	0x20

/* size 56 */
struct file {
	struct inode *f_inode;	/*  0 */
	__u32 f_flags;		/*  8: open(2) flags, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40 */
	__u16 f_mode;		/* 12: FMODE_* */
				/* 14: 2 bytes padding */
	__u64 f_pos;		/* 16 */
	char f_path[32];	/* 24: NUL-terminated */
} __hook_ctx;

/* file_permission() mask bits */
#define MAY_EXEC	0x1
#define MAY_WRITE	0x2
#define MAY_READ	0x4

/* size 8; port and addr in network byte order, as in struct sockaddr_in */
struct sock_addr {
	__u16 family;		/* 0: AF_INET = 2, AF_INET6 = 10 */
	__be16 port;		/* 2 */
	__be32 addr;		/* 4 */
} __hook_ctx;

#define HOOK_AF_INET	2
#define HOOK_AF_INET6	10

/* request methods */
enum req_method {
	REQ_GET = 0,
	REQ_PUT = 1,
	REQ_DELETE = 2,
	REQ_POST = 3,
};

/* size 56 */
struct request {
	__u64 id;		/*  0 */
	__u32 method;		/*  8: enum req_method */
	__u32 len;		/* 12: body length */
	__u16 status;		/* 16: filled by the handler */
	__u8 version;		/* 18 */
	__u8 _pad;		/* 19 */
	char path[32];		/* 20: NUL-terminated, e.g. "/api/v1/users" */
				/* 52: 4 bytes padding */
} __hook_ctx;

/* The layouts above are part of the contract: host and programs must agree byte for byte. */
#define HOOKS_ASSERT_LAYOUT(type, field, off) \
	_Static_assert(__builtin_offsetof(struct type, field) == (off), #type "." #field)
_Static_assert(sizeof(struct inode) == 32, "struct inode");
HOOKS_ASSERT_LAYOUT(inode, i_mode, 16);
HOOKS_ASSERT_LAYOUT(inode, i_size, 24);
_Static_assert(sizeof(struct file) == 56, "struct file");
HOOKS_ASSERT_LAYOUT(file, f_mode, 12);
HOOKS_ASSERT_LAYOUT(file, f_pos, 16);
HOOKS_ASSERT_LAYOUT(file, f_path, 24);
_Static_assert(sizeof(struct sock_addr) == 8, "struct sock_addr");
HOOKS_ASSERT_LAYOUT(sock_addr, addr, 4);
_Static_assert(sizeof(struct request) == 56, "struct request");
HOOKS_ASSERT_LAYOUT(request, status, 16);
HOOKS_ASSERT_LAYOUT(request, path, 20);
#undef HOOKS_ASSERT_LAYOUT

/* ---- hook functions (defined by the host) --------------------------------------------
 *
 *  hook              prototype                                          nargs  ret slot
 *  file_open         int  file_open(struct file *file, int flags)            2   ctx[2]
 *  file_permission   int  file_permission(struct file *file, int mask)       2   ctx[2]
 *  socket_connect    int  socket_connect(struct sock_addr *addr, int addrlen) 2  ctx[2]
 *  request_handle    long request_handle(struct request *req)                1   ctx[1]
 *  task_kill         int  task_kill(int pid, int sig)                        2   ctx[2]
 *  buffer_alloc      int  buffer_alloc(__u64 size, __u32 flags)              2   ctx[2]
 *  net_send          long net_send(__u32 daddr, __u16 dport, __u32 len)      3   ctx[3]
 *  config_set        int  config_set(const char *key, __u32 keylen, __u64 value) 3 ctx[3]
 *
 * int hooks return 0 or a negative errno; net_send returns the bytes sent or a negative
 * errno; request_handle returns an HTTP-like status (200, 404, ...) or a negative errno.
 * daddr in net_send is an IPv4 address in host byte order (10.0.0.1 = 0x0a000001).
 * config_set's key is not NUL-terminated: keylen bytes (a slice of a larger buffer).
 */
#if !defined(__bpf__)
int file_open(struct file *file, int flags);
int file_permission(struct file *file, int mask);
int socket_connect(struct sock_addr *addr, int addrlen);
long request_handle(struct request *req);
int task_kill(int pid, int sig);
int buffer_alloc(__u64 size, __u32 flags);
long net_send(__u32 daddr, __u16 dport, __u32 len);
int config_set(const char *key, __u32 keylen, __u64 value);
#endif

/* errno values the programs return (same as <asm-generic/errno-base.h>) */
#ifndef EPERM
#define EPERM	1
#endif
#ifndef ENOENT
#define ENOENT	2
#endif
#ifndef ENOMEM
#define ENOMEM	12
#endif
#ifndef EACCES
#define EACCES	13
#endif
#ifndef EINVAL
#define EINVAL	22
#endif
#ifndef E2BIG
#define E2BIG	7
#endif

#endif /* PROGS_HOOKS_H */
