// BTF test program: CO-RE relocations of every kind libbpf 1.1 exposes (field, type, enum).
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
    int pid;
    int tgid;
    struct { char name[16]; } comm;
    struct task_struct *parent;
    unsigned int flags: 4;
    unsigned int state: 12;
} __attribute__((preserve_access_index));

enum task_state { TASK_RUNNING = 0, TASK_STOPPED = 4 };
typedef struct { int x; } anon_core_t;

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/foo")
int entry(struct task_struct *t)
{
    int pid = BPF_CORE_READ(t, parent, pid);
    int exists = bpf_core_field_exists(t->tgid);
    int sz = bpf_core_field_size(t->comm);
    unsigned int st = BPF_CORE_READ_BITFIELD_PROBED(t, state);
    int texists = bpf_core_type_exists(struct task_struct);
    int tsize = bpf_core_type_size(anon_core_t);
    int ev = bpf_core_enum_value_exists(enum task_state, TASK_STOPPED);
    long val = bpf_core_enum_value(enum task_state, TASK_STOPPED);
    int off = bpf_core_field_offset(t->tgid);
    unsigned long long id = bpf_core_type_id_local(struct task_struct);
    unsigned long long tid = bpf_core_type_id_kernel(struct task_struct);
    int m = bpf_core_type_matches(struct task_struct);
    return pid + exists + sz + st + texists + tsize + ev + val + off + id + tid + m + t->flags;
}
