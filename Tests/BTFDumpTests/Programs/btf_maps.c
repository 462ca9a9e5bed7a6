// BTF test program: BTF-defined maps in .maps (__uint, __type, __array).
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct key { __u32 pid; char comm[16]; };
struct value { __u64 count; __u64 bytes; };

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct key);
    __type(value, struct value);
} counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} arr SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} rb SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __uint(key_size, sizeof(__u32));
    __array(values, int (void *));
} jmp SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int entry(struct __sk_buff *skb)
{
    struct key k = {};
    __u32 i = 0;
    struct value *v = bpf_map_lookup_elem(&counts, &k);
    __u64 *a = bpf_map_lookup_elem(&arr, &i);
    if (v) v->count++;
    if (a) *a += skb->len;
    bpf_tail_call(skb, &jmp, 0);
    return 0;
}
