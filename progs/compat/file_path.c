// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * file_path.c - report the name and inode of files as they are opened, as file-tracing tools
 * do from vfs_open: the name is file->f_path.dentry->d_name, whose length sits in an anonymous
 * struct of an anonymous union in struct qstr, and d_name itself is a const member of an
 * anonymous union in a recent dentry.
 *
 * Exercises: BPF_CORE_READ through nested named and anonymous members, bpf_probe_read_kernel_str,
 * PERF_EVENT_ARRAY.
 */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* 64 bytes */
struct file_event {
	u64 inode;			/*  0 */
	u32 name_len;			/*  8 */
	u32 flags;			/* 12 */
	char name[48];			/* 16 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

SEC("kprobe/vfs_open")
int BPF_KPROBE(trace_vfs_open, const struct path *path, struct file *file)
{
	struct file_event event = {};
	struct dentry *dentry = BPF_CORE_READ(file, f_path.dentry);
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);

	event.inode = BPF_CORE_READ(file, f_inode, i_ino);
	event.name_len = BPF_CORE_READ(dentry, d_name.len);
	event.flags = BPF_CORE_READ(file, f_flags);
	bpf_probe_read_kernel_str(event.name, sizeof(event.name), name);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
