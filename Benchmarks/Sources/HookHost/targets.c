#include "hook_bench.h"

#include "bpfrun_attach.h"

__attribute__((noinline)) int bench_bare(int a, int b) { return 0; }

__attribute__((noinline)) int bench_callback(int a, int b) { return 0; }

BPFRUN_HOOK(int, bench_hook, BPFRUN_HOOK_OVERRIDABLE_ERRNO, int a, int b)
{
	return 0;
}

BPFRUN_STATIC_CALL_HOOK(int, bench_static_hook, BPFRUN_HOOK_OVERRIDABLE_ERRNO, bench_static_body, int a, int b)
