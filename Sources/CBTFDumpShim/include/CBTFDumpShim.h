#ifndef CBTFDUMPSHIM_H
#define CBTFDUMPSHIM_H

#include <stddef.h>

/// Dumps every type of the raw BTF `data` (types 1...last, in id order) as C declarations with
/// libbpf's `btf_dump`, as `bpftool btf dump file F format c` does between its preamble and
/// epilogue. `pointer_size` (4 or 8, or 0 to let libbpf guess) is what libbpf sets from the ELF
/// class. On success returns 0 and stores a malloc'ed NUL-terminated string in `*output` (free it
/// with `bpfrun_btf_dump_free`); on failure returns a negative errno and stores NULL.
int bpfrun_btf_dump_c(const void *data, size_t size, int pointer_size, char **output, size_t *output_length);

/// Frees a string returned by `bpfrun_btf_dump_c`.
void bpfrun_btf_dump_free(char *output);

#endif
