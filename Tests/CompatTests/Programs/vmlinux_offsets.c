/* The offsets and sizes of KERNEL_FIELDS as the C compiler lays out the real kernel's types:
 * compiled against a vmlinux.h that bpftool writes from the running kernel's BTF. The oracle of
 * the CO-RE test against that BTF. */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include "kernel_fields.h"

#define OFFSET(type, field) __builtin_offsetof(struct type, field),
#define SIZE(type, field) sizeof(((struct type *)0)->field),

unsigned long offsets[] = { KERNEL_FIELDS(OFFSET) };
unsigned long sizes[] = { KERNEL_FIELDS(SIZE) };
