// BTF test program: DECL_TAG on structs, unions, members, typedefs, variables, functions and parameters; TYPE_TAG chains.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __ttag(x) __attribute__((btf_type_tag(x)))

struct tagged {
    int a __tag("member_tag");
    int __ttag("user") *uptr;
    char __ttag("percpu") __ttag("rcu") *multi;
    const int __ttag("user") *cuptr;
} __tag("struct_tag");

union tagged_u { int x __tag("um"); long y; } __tag("union_tag");

typedef int tagged_int __tag("typedef_tag");

int tagged_var __tag("var_tag") = 1;
tagged_int ti;
struct tagged g_tagged;
union tagged_u g_tagged_u;

__attribute__((noinline)) int tagged_fn(int x __tag("arg_tag"), int __ttag("user") *p) __tag("fn_tag")
{
    return x + (p ? 1 : 0);
}

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int entry(void *ctx) { return tagged_fn(1, 0) + g_tagged.a + tagged_var; }
