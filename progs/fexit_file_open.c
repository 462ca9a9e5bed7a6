// SPDX-License-Identifier: GPL-2.0
/*
 * fexit_file_open.c - audit trail of file_open(): after every open, record what was opened
 * and how it ended, and count successes and failures.
 *
 * Exercises: SEC("fexit/HOOK") with BPF_PROG (arguments and the return value slot), and
 * CO-RE on a hook argument of struct type:
 *   - direct field loads through the BTF pointer (file->f_flags, file->f_mode): each load
 *     carries a CO-RE <byte_off> relocation;
 *   - BPF_CORE_READ(file, f_inode, i_ino): a pointer chase through two
 *     bpf_probe_read_kernel() calls whose source offsets are CO-RE relocated;
 *   - bpf_core_field_size(file->f_path)            (CO-RE <byte_sz>);
 *   - bpf_core_field_exists() on a field only a newer host would have, through the
 *     "struct file___v2" flavour (CO-RE <field_exists>; the loader resolves it to 0 against
 *     the host BTF, where struct file has no f_version).
 * Also one bpf_printk with three arguments (-> bpf_trace_printk, helper 6).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hooks.h"

/* What a newer struct file might carry; "___v2" is a CO-RE flavour suffix: it is matched
 * against the host's "struct file". */
struct file___v2 {
	__u64 f_version;
} __attribute__((preserve_access_index));

struct open_record {
	__u64 ino;		/*  0: file->f_inode->i_ino */
	__u32 flags;		/*  8: the flags argument */
	__u32 f_flags;		/* 12: file->f_flags */
	__u16 f_mode;		/* 16: file->f_mode */
	__u16 has_version;	/* 18: bpf_core_field_exists(file___v2::f_version) */
	__s32 ret;		/* 20: file_open's return value */
	__u32 path_size;	/* 24: bpf_core_field_size(file->f_path) */
	__u32 _pad;		/* 28 */
};

/* .bss */
struct open_record last_open;
__u64 opens_ok;
__u64 opens_failed;

SEC("fexit/file_open")
int BPF_PROG(trace_file_open, struct file *file, int flags, int ret)
{
	struct open_record *r = &last_open;

	r->ino = BPF_CORE_READ(file, f_inode, i_ino);
	r->flags = flags;
	r->f_flags = file->f_flags;
	r->f_mode = file->f_mode;
	r->has_version = bpf_core_field_exists(((struct file___v2 *)file)->f_version);
	r->ret = ret;
	r->path_size = bpf_core_field_size(file->f_path);

	if (ret == 0)
		__sync_fetch_and_add(&opens_ok, 1);
	else
		__sync_fetch_and_add(&opens_failed, 1);

	bpf_printk("open: ino=%llu flags=%d ret=%d", r->ino, flags, ret);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
