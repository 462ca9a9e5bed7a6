// The hook benchmark's BPF side: the prototypes of its hooks (this object's BTF is the host
// BTF) and the programs it attaches: an empty fexit, and LSM programs that allow.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int bench_hook(int a, int b) { return 0; }
__attribute__((noinline)) int bench_static_hook(int a, int b) { return 0; }

SEC("fexit/bench_hook") int empty_fexit(__u64 *ctx) { return 0; }
SEC("lsm/bench_hook") int allow1(__u64 *ctx) { return 0; }
SEC("lsm/bench_hook") int allow2(__u64 *ctx) { return 0; }
SEC("lsm/bench_hook") int allow3(__u64 *ctx) { return 0; }
SEC("lsm/bench_hook") int allow4(__u64 *ctx) { return 0; }
SEC("lsm/bench_static_hook") int static_allow(__u64 *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
