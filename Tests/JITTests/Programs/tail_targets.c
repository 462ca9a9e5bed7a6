// Tail-call targets for code that runs unchecked: `dispatch` continues in slot 0 of `targets`,
// which the tests fill with `proven` (verifies for a 16-byte context), `unproven` (reads far
// past any context it is given: the verifier refuses it) or `wide` (verifies only for a
// context of 32 bytes or more).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} targets SEC(".maps");

SEC("socket") int dispatch(void *ctx) {
    bpf_tail_call(ctx, &targets, 0);
    return 1;
}

SEC("socket") int proven(void *ctx) { return 2; }

SEC("socket") int unproven(void *ctx) { return ((volatile __u64 *)ctx)[100] == 0x5eed ? 4 : 3; }

SEC("socket") int wide(void *ctx) { return ((volatile __u8 *)ctx)[31] + 10; }

char LICENSE[] SEC("license") = "GPL";
