// Programs on task_kill(int pid, int sig) for the trampoline's rules: each appends its digit to
// `sequence` (so the order of runs reads as a hex number), records the return slot it saw, and
// returns what the test sets in its `*_return` global (LSM returns clamped into [-4095, 0]).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 sequence;
__s64 fentry_pid, fentry_sig;
__s64 modify_seen, modify2_seen, exit_seen, lsm_seen, lsm2_seen;
__s32 modify_return, modify2_return, lsm_return, lsm2_return;

static __always_inline void step(__u64 digit) { sequence = sequence * 16 + digit; }

static __always_inline int errno_range(__s32 value)
{
	/* The barrier keeps the compiler from checking a copy of `value` (which the verifier
	 * would not see bounded) instead of the value returned. */
	asm volatile("" : "+r"(value));
	if (value < -4095 || value > 0) return 0;
	asm volatile("" : "+r"(value));
	return value;
}

SEC("fentry/task_kill")
int record_entry(__u64 *ctx)
{
	step(1);
	fentry_pid = (__s64)ctx[0];
	fentry_sig = (__s64)ctx[1];
	return 0;
}

SEC("fmod_ret/task_kill")
int modify(__u64 *ctx)
{
	step(2);
	modify_seen = (__s64)ctx[2];
	return errno_range(modify_return);
}

SEC("fmod_ret/task_kill")
int modify2(__u64 *ctx)
{
	step(3);
	modify2_seen = (__s64)ctx[2];
	return errno_range(modify2_return);
}

SEC("fexit/task_kill")
int observe_exit(__u64 *ctx)
{
	step(4);
	exit_seen = (__s64)ctx[2];
	return 0;
}

SEC("lsm/task_kill")
int policy(__u64 *ctx)
{
	step(5);
	lsm_seen = (__s64)ctx[2];
	return errno_range(lsm_return);
}

SEC("lsm/task_kill")
int policy2(__u64 *ctx)
{
	step(6);
	lsm2_seen = (__s64)ctx[2];
	return errno_range(lsm2_return);
}

char LICENSE[] SEC("license") = "GPL";
