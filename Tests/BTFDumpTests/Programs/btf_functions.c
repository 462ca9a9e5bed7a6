// BTF test program: FUNC static and global, FUNC_PROTO of subprograms, func_info and line_info of several sections.
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { int a, b; };

static __attribute__((noinline)) int helper_static(int x, struct pair *p) { return x + p->a; }
__attribute__((noinline)) int helper_global(const char *s, unsigned long n) { return s[0] + n; }
__attribute__((noinline)) void helper_void(volatile int *p) { *p = 1; }
static __attribute__((noinline)) struct pair *ret_ptr(struct pair *p) { return p; }
__attribute__((noinline)) long many(int a, long b, char c, short d, unsigned e) { return a + b + c + d + e; }

int counter;
char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int entry(struct __sk_buff *skb)
{
    struct pair p = { 1, 2 };
    helper_void(&counter);
    return helper_static(1, ret_ptr(&p)) + helper_global("ab", 2) + many(1,2,3,4,5);
}

SEC("xdp")
int second(struct xdp_md *ctx) { return XDP_PASS; }
