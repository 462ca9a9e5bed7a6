/* The offsets and sizes of KERNEL_FIELDS as CO-RE relocates them: compiled against the
 * compatibility suite's kernel.h, loaded against a real kernel's BTF. */
#include "kernel.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "kernel_fields.h"

#define COUNT(type, field) + 1
enum { FIELD_COUNT = 0 KERNEL_FIELDS(COUNT) };

unsigned long offsets[FIELD_COUNT];
unsigned long sizes[FIELD_COUNT];

SEC("socket")
int relocate(void *ctx)
{
	int i = 0;
#define RELOCATE(type, field) \
	offsets[i] = bpf_core_field_offset(struct type, field); \
	sizes[i] = bpf_core_field_size(struct type, field); \
	i++;
	KERNEL_FIELDS(RELOCATE)
	return i;
}

char LICENSE[] SEC("license") = "GPL";
