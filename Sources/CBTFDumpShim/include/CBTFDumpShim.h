#ifndef CBTFDUMPSHIM_H
#define CBTFDUMPSHIM_H

#include <stddef.h>

/// Receives the C text in chunks, in order.
typedef void (*bpfrun_btf_dump_write)(void *context, const char *data, size_t length);

/// libbpf's parsed copy of a BTF, ready to be dumped as C.
struct bpfrun_btf_c_dump;

/// Parses the raw BTF `data` with libbpf (`btf__new`, which copies it: the caller may free `data`
/// once this returns). `pointer_size` (4 or 8, or 0 to let libbpf guess) is what libbpf sets from
/// the ELF class. Returns NULL and stores a negative errno in `*error` on failure.
struct bpfrun_btf_c_dump *bpfrun_btf_c_dump_new(const void *data, size_t size, int pointer_size, int *error);

/// Dumps every type (1...last, in id order) as C declarations with libbpf's `btf_dump`, as
/// `bpftool btf dump file F format c` does between its preamble and epilogue, handing the text to
/// `write` in chunks of 64 KiB. Returns 0, or a negative errno (-EFBIG past 64 MiB of text).
int bpfrun_btf_c_dump_run(struct bpfrun_btf_c_dump *dump, bpfrun_btf_dump_write write, void *context);

/// Frees what `bpfrun_btf_c_dump_new` returned.
void bpfrun_btf_c_dump_free(struct bpfrun_btf_c_dump *dump);

#endif
