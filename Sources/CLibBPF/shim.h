// libbpf (libbpf-dev): the BTF parser and its C dumper.
#include <bpf/btf.h>
#include <bpf/libbpf.h>
