// BTF test program: VAR and DATASEC in .data/.bss/.rodata, custom .data.* / .bss.* sections, function-local statics, license and version.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

int initialized = 5;
int zeroed;
static int static_counter = 3;
const int ro_const = 42;
const char banner[] = "hello";
static const char sbanner[] = "static";
int custom_data SEC(".data.custom") = 7;
__u64 custom_stats[4] SEC(".data.stats");
int custom_bss SEC(".bss.extra");
const volatile int rodata_cfg = 1;
char LICENSE[] SEC("license") = "Dual BSD/GPL";
__u32 _version SEC("version") = 1;

SEC("socket")
int entry(void *ctx)
{
    static int local_static;
    static int local_static2 = 4;
    local_static++;
    bpf_printk("x %d", local_static);
    bpf_printk("y %d", local_static2);
    return initialized + zeroed + static_counter++ + ro_const + banner[1] + sbanner[0] + custom_data + custom_stats[1] + custom_bss + rodata_cfg;
}
