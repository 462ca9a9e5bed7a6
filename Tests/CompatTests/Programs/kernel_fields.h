/* The kernel fields whose CO-RE offsets and sizes are checked against a real kernel's BTF:
 * X(struct, member path). Members in anonymous structs and unions of the real kernel included. */
#define KERNEL_FIELDS(X) \
	X(task_struct, __state) X(task_struct, flags) X(task_struct, prio) X(task_struct, pid) \
	X(task_struct, tgid) X(task_struct, real_parent) X(task_struct, mm) X(task_struct, cred) \
	X(task_struct, comm) \
	X(mm_struct, arg_start) X(mm_struct, arg_end) X(mm_struct, env_start) X(mm_struct, env_end) \
	X(cred, uid) X(cred, gid) \
	X(file, f_path) X(file, f_path.dentry) X(file, f_inode) X(file, f_flags) \
	X(dentry, d_parent) X(dentry, d_name) X(dentry, d_name.len) X(dentry, d_name.name) X(dentry, d_inode) \
	X(qstr, hash) X(qstr, len) X(qstr, name) \
	X(inode, i_mode) X(inode, i_ino) \
	X(net_device, name) X(net_device, ifindex) \
	X(sock_common, skc_daddr) X(sock_common, skc_rcv_saddr) X(sock_common, skc_dport) \
	X(sock_common, skc_num) X(sock_common, skc_family) \
	X(sock, __sk_common) X(sock, __sk_common.skc_num) X(sock, sk_protocol) X(sock, sk_type) \
	X(socket, state) X(socket, sk) \
	X(sk_buff, dev) X(sk_buff, sk) X(sk_buff, tstamp) X(sk_buff, len) X(sk_buff, protocol) X(sk_buff, mark) \
	X(request, q) X(request, cmd_flags) X(request, __sector) X(request, __data_len) X(request, start_time_ns) \
	X(request_queue, disk) \
	X(gendisk, major) X(gendisk, first_minor) X(gendisk, disk_name) \
	X(pt_regs, di) X(pt_regs, si) X(pt_regs, ax) \
	X(trace_event_raw_sys_enter, id) X(trace_event_raw_sys_enter, args) X(trace_event_raw_sys_exit, ret) \
	X(bpf_perf_event_data, regs) X(bpf_perf_event_data, sample_period)
