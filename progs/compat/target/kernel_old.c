// SPDX-License-Identifier: GPL-2.0 OR MIT
/* An older "running kernel" (before 5.14 and 5.17) for the programs that guard fields which
 * moved: task_struct's state was a long named 'state', and a request pointed to its disk
 * directly (rq_disk). Compiled with -g, its BTF is a CO-RE target. */

typedef unsigned int u32;
typedef unsigned long long u64;
typedef int pid_t;
typedef u64 sector_t;

struct pt_regs {
    unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

struct thread_info { unsigned long flags; u32 status; };

struct task_struct {
    struct thread_info thread_info;
    volatile long state;
    void *stack;
    unsigned int flags;
    int prio;
    pid_t pid;
    pid_t tgid;
    struct task_struct *real_parent;
    char comm[16];
};

struct gendisk {
    int major;
    int first_minor;
    char disk_name[32];
};

struct request_queue {
    void *queue_head;
};

struct request {
    struct request_queue *q;
    unsigned int cmd_flags;
    struct gendisk *rq_disk;
    unsigned int __data_len;
    sector_t __sector;
    u64 start_time_ns;
};

/* Definitions, so that every type above is in the BTF. */
struct pt_regs regs;
struct task_struct task;
struct request request;
struct request_queue request_queue;
struct gendisk gendisk;
