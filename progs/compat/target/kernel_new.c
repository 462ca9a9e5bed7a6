// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The "running kernel" the compatibility programs are relocated against: the types of
 * compat/include/kernel.h as a recent kernel lays them out, written for this suite after the
 * shapes of Linux 6.x: fields moved and added, and many of them inside anonymous structs and
 * unions nested several levels deep. Compiled with -g, its BTF is a CO-RE target. */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef unsigned short umode_t;
typedef long long ktime_t;
typedef u64 sector_t;
typedef unsigned int __be32;
typedef unsigned short __be16;
typedef u64 __addrpair;
typedef u32 __portpair;

struct list_head { struct list_head *next, *prev; };
struct rb_node { unsigned long __rb_parent_color; struct rb_node *rb_right, *rb_left; };
struct refcount { int refs; };

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
    char __data[0];
};

struct trace_event_raw_sys_exit {
    struct trace_entry ent;
    long id;
    long ret;
    char __data[0];
};

typedef struct { uid_t val; } kuid_t;
typedef struct { gid_t val; } kgid_t;

struct cred {
    struct refcount usage;
    kuid_t uid;
    kgid_t gid;
    kuid_t suid;
    kgid_t sgid;
    kuid_t euid;
    kgid_t egid;
};

struct mm_struct {
    struct {
        struct { struct refcount mm_count; } __attribute__((aligned(64)));
        void *mmap_base;
        unsigned long task_size;
        int map_count;
        unsigned long total_vm, locked_vm, data_vm, exec_vm, stack_vm;
        unsigned long start_code, end_code, start_data, end_data;
        unsigned long start_brk, brk, start_stack;
        unsigned long arg_start, arg_end, env_start, env_end;
        unsigned long def_flags;
    };
    unsigned long cpu_bitmap[];
};

struct thread_info { unsigned long flags; unsigned long syscall_work; u32 status; u32 cpu; };

struct task_struct {
    struct thread_info thread_info;
    unsigned int __state;
    unsigned int saved_state;
    void *stack;
    struct refcount usage;
    unsigned int flags;
    unsigned int ptrace;
    int on_cpu;
    int prio;
    int static_prio;
    int normal_prio;
    unsigned int rt_priority;
    struct mm_struct *mm;
    struct mm_struct *active_mm;
    int exit_state;
    int exit_code;
    pid_t pid;
    pid_t tgid;
    unsigned long stack_canary;
    struct task_struct *real_parent;
    struct task_struct *parent;
    struct list_head children;
    struct list_head sibling;
    struct task_struct *group_leader;
    const struct cred *ptracer_cred;
    const struct cred *real_cred;
    const struct cred *cred;
    char comm[16];
};

struct qstr {
    union {
        struct {
            u32 hash;
            u32 len;
        };
        u64 hash_len;
    };
    const unsigned char *name;
};

struct inode {
    umode_t i_mode;
    unsigned short i_opflags;
    kuid_t i_uid;
    kgid_t i_gid;
    unsigned int i_flags;
    void *i_acl;
    unsigned long i_ino;
};

struct dentry {
    unsigned int d_flags;
    unsigned int d_seq;
    struct list_head d_hash;
    struct dentry *d_parent;
    union {
        struct qstr __d_name;
        const struct qstr d_name;
    };
    struct inode *d_inode;
};

struct path {
    void *mnt;
    struct dentry *dentry;
};

struct file {
    union {
        struct list_head f_llist;
        unsigned int f_iocb_flags;
    };
    unsigned int f_mode;
    void *f_op;
    void *f_mapping;
    void *private_data;
    struct inode *f_inode;
    unsigned int f_flags;
    unsigned int f_ref;
    struct path f_path;
};

struct net_device {
    char name[16];
    unsigned long state;
    struct list_head dev_list;
    unsigned int flags;
    int ifindex;
};

struct sock_common {
    union {
        __addrpair skc_addrpair;
        struct {
            __be32 skc_daddr;
            __be32 skc_rcv_saddr;
        };
    };
    union {
        unsigned int skc_hash;
        u16 skc_u16hashes[2];
    };
    union {
        __portpair skc_portpair;
        struct {
            __be16 skc_dport;
            u16 skc_num;
        };
    };
    unsigned short skc_family;
    volatile unsigned char skc_state;
    unsigned char skc_reuse : 4;
    unsigned char skc_reuseport : 1;
    int skc_bound_dev_if;
};

struct sock {
    struct sock_common __sk_common;
    int sk_rcvbuf;
    unsigned long sk_flags;
    u16 sk_type;
    u16 sk_protocol;
    u16 sk_gso_max_segs;
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
    short type;
    unsigned long flags;
    void *file;
    struct sock *sk;
};

struct sk_buff {
    union {
        struct {
            struct sk_buff *next;
            struct sk_buff *prev;
            union {
                struct net_device *dev;
                unsigned long dev_scratch;
            };
        };
        struct rb_node rbnode;
        struct list_head list;
    };
    union {
        struct sock *sk;
        int ip_defrag_offset;
    };
    union {
        ktime_t tstamp;
        u64 skb_mstamp_ns;
    };
    char cb[48];
    unsigned int len;
    unsigned int data_len;
    u16 mac_len;
    u16 hdr_len;
    u16 queue_mapping;
    __be16 protocol;
    union {
        u32 mark;
        u32 reserved_tailroom;
    };
};

struct gendisk {
    int major;
    int first_minor;
    int minors;
    char disk_name[32];
};

struct request_queue {
    void *queue_head;
    void *last_merge;
    struct gendisk *disk;
};

struct request {
    struct request_queue *q;
    void *mq_ctx;
    void *mq_hctx;
    unsigned int cmd_flags;
    unsigned int rq_flags;
    int tag;
    int internal_tag;
    unsigned int timeout;
    unsigned int __data_len;
    sector_t __sector;
    void *bio;
    u64 start_time_ns;
    u64 io_start_time_ns;
};

enum sock_kind {
    SOCK_KIND_DGRAM = 20,
    SOCK_KIND_STREAM = 10,
    SOCK_KIND_SEQPACKET = 50,
};

/* Definitions, so that every type above is in the BTF (a struct reached only through pointers
 * would be a forward declaration there). */
struct bpf_perf_event_data perf_event_data;
struct trace_event_raw_sys_enter sys_enter;
struct trace_event_raw_sys_exit sys_exit;
struct task_struct task;
struct cred cred;
struct mm_struct mm;
struct file file;
struct path path;
struct dentry dentry;
struct inode inode;
struct socket socket;
struct sock sock;
struct sk_buff skb;
struct net_device net_device;
struct request request;
struct request_queue request_queue;
struct gendisk gendisk;
enum sock_kind sock_kind;
