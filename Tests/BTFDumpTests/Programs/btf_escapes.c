// BTF test program: A DECL_TAG whose text needs JSON escaping.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
int v __attribute__((btf_decl_tag("a'b\\c\"d\te/f"))) = 1;
char LICENSE[] SEC("license") = "GPL";
