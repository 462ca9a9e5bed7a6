// BTF test program: extern VARs (.kconfig, .ksyms) and extern FUNCs (kfuncs) in DATASECs.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
extern int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_X __kconfig __weak;
struct rq;
extern const struct rq runqueues __ksym;
extern const int bpf_prog_active __ksym;
extern int bpf_kfunc_x(int a, struct rq *b) __ksym;
extern void bpf_kfunc_y(void) __ksym __weak;
char LICENSE[] SEC("license") = "GPL";
SEC("tp_btf/x")
int entry(void *ctx) { bpf_kfunc_y(); return LINUX_KERNEL_VERSION + CONFIG_X + bpf_kfunc_x(1, (void*)&runqueues) + bpf_prog_active; }
