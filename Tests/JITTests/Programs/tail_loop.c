// A program that tail-calls itself through its own program array until the runtime stops it
// (at 33 tail calls), counting its entries; and one that looks up an array map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} jump_table SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} entries SEC(".maps");

SEC("socket") int again(void *ctx) {
    __u32 key = 0;
    __u64 *count = bpf_map_lookup_elem(&entries, &key);
    if (count) *count += 1;
    bpf_tail_call(ctx, &jump_table, 0);
    return 7;
}

static __always_inline long found(__u32 key) {
    __u64 *value = bpf_map_lookup_elem(&entries, &key);
    return value ? 1 + *value : 0;
}

// Keys past the end (4 and 5) find nothing. (Written out: a loop with the key on the stack is
// one the verifier cannot yet follow.)
SEC("socket") int lookups(void *ctx) {
    return found(0) + found(1) + found(2) + found(3) + found(4) + found(5);
}

char LICENSE[] SEC("license") = "GPL";
