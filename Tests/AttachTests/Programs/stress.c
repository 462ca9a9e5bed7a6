// The stress test's programs on file_permission(struct file *file, int mask), one of each kind:
// each adds 1 to its own byte of seen[mask] (the calling thread's number), so that the caller
// sees which programs ran for its call, and how many times each.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void mark(__u64 *ctx, int byte)
{
	__u32 key = (__u32)ctx[1];
	__u64 *value = bpf_map_lookup_elem(&seen, &key);
	if (value) *value += 1ull << (8 * byte);
}

SEC("fentry/file_permission")
int stress_entry(__u64 *ctx) { mark(ctx, 0); return 0; }

SEC("fmod_ret/file_permission")
int stress_modify(__u64 *ctx) { mark(ctx, 1); return 0; }

SEC("fexit/file_permission")
int stress_exit(__u64 *ctx) { mark(ctx, 2); return 0; }

SEC("lsm/file_permission")
int stress_policy(__u64 *ctx) { mark(ctx, 3); return 0; }

char LICENSE[] SEC("license") = "GPL";
