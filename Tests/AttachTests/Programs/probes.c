// Programs on the test host's own hooks: slot layout, the Swift static-call hook, the recursion
// guard, and the stress test.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 slots[6];

SEC("fentry/widen_probe")
int record_slots(__u64 *ctx)
{
	for (int i = 0; i < 5; i++) slots[i] = ctx[i];
	return 0;
}

SEC("fexit/widen_probe")
int record_return(__u64 *ctx)
{
	slots[5] = ctx[5];
	return 0;
}

__s64 swift_seen_a, swift_seen_rc;

SEC("lsm/swift_policy")
int deny_negative_a(__u64 *ctx)
{
	swift_seen_a = (__s64)ctx[0];
	swift_seen_rc = (__s64)ctx[2];
	return (int)ctx[0] < 0 ? -1 : 0;
}

// The test's helper 4000 calls reenter_probe(value) again from inside the program.
static long (*call_hook_again)(int value) = (void *)4000;
__u64 reentries;

SEC("fentry/reenter_probe")
int reenter(__u64 *ctx)
{
	reentries++;
	call_hook_again((int)ctx[0]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
