// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The kernel types the compatibility programs are compiled against, in the role vmlinux.h plays
 * for libbpf tools: a subset of the kernel's structs, written for this suite, every record
 * relocatable (preserve_access_index). The layouts here are an older kernel's view on purpose:
 * the programs are loaded against compat/target/kernel_*.c, whose layouts differ (fields moved,
 * added, nested in anonymous structs and unions), so every field access goes through CO-RE. */
#ifndef COMPAT_KERNEL_H
#define COMPAT_KERNEL_H

/* bpf_tracing.h reads struct pt_regs with the kernel's field names when this is defined. */
#define __VMLINUX_H__

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef unsigned short umode_t;
typedef long long loff_t;
typedef u64 sector_t;
typedef long long ktime_t;
typedef _Bool bool;
#define true 1
#define false 0

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct pt_regs {
    unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

struct bpf_perf_event_data {
    struct pt_regs regs;
    u64 sample_period;
    u64 addr;
};

struct trace_entry {
    unsigned short type;
    unsigned char flags;
    unsigned char preempt_count;
    int pid;
};

struct trace_event_raw_sys_enter {
    struct trace_entry ent;
    long id;
    unsigned long args[6];
};

struct trace_event_raw_sys_exit {
    struct trace_entry ent;
    long id;
    long ret;
};

typedef struct { uid_t val; } kuid_t;
typedef struct { gid_t val; } kgid_t;

struct cred {
    kuid_t uid;
    kgid_t gid;
};

struct mm_struct {
    unsigned long arg_start, arg_end;
    unsigned long env_start, env_end;
};

struct task_struct {
    unsigned int __state;
    unsigned int flags;
    int prio;
    pid_t pid;
    pid_t tgid;
    struct task_struct *real_parent;
    struct mm_struct *mm;
    struct cred *cred;
    char comm[16];
};

/* The task_struct of kernels before 5.14, whose state was a long named 'state'. */
struct task_struct___pre514 {
    long state;
};

struct qstr {
    u32 hash;
    u32 len;
    const unsigned char *name;
};

struct inode {
    umode_t i_mode;
    unsigned long i_ino;
};

struct dentry {
    struct dentry *d_parent;
    struct qstr d_name;
    struct inode *d_inode;
};

struct path {
    void *mnt;
    struct dentry *dentry;
};

struct file {
    struct path f_path;
    struct inode *f_inode;
    unsigned int f_flags;
};

struct net_device {
    char name[16];
    int ifindex;
};

struct sock_common {
    unsigned int skc_daddr;
    unsigned int skc_rcv_saddr;
    unsigned short skc_dport;
    unsigned short skc_num;
    unsigned short skc_family;
};

struct sock {
    struct sock_common __sk_common;
    u16 sk_protocol;
    u16 sk_type;
};

typedef enum {
    SS_FREE = 0,
    SS_UNCONNECTED,
    SS_CONNECTING,
    SS_CONNECTED,
    SS_DISCONNECTING,
} socket_state;

struct socket {
    socket_state state;
    struct sock *sk;
};

struct sk_buff {
    struct net_device *dev;
    struct sock *sk;
    ktime_t tstamp;
    unsigned int len;
    unsigned short protocol;
    u32 mark;
};

struct gendisk {
    int major;
    int first_minor;
    char disk_name[32];
};

struct request_queue {
    struct gendisk *disk;
};

struct request {
    struct request_queue *q;
    unsigned int cmd_flags;
    sector_t __sector;
    unsigned int __data_len;
    u64 start_time_ns;
};

/* The request of kernels before 5.17, which pointed to its disk directly. */
struct request___pre517 {
    struct gendisk *rq_disk;
};

/* A kernel enum whose values differ from one kernel to the next. */
enum sock_kind {
    SOCK_KIND_STREAM = 1,
    SOCK_KIND_DGRAM = 2,
    SOCK_KIND_RAW = 3,
};

#pragma clang attribute pop

/* The kernel's errno values the programs compare against. */
#define EPERM 1
#define ENOENT 2
#define EFAULT 14
#define EEXIST 17

#define TASK_COMM_LEN 16

#endif
