/*
 * hook_bench.h - the hook benchmark's host: the functions it calls (in targets.c, a translation
 * unit of their own so that the compiler cannot see through them) and the timing loops, built
 * twice: plainly (HookHost, prefix plain_) and with -mretpoline (HookLoopsRetpoline, prefix
 * retpoline_), where every indirect call goes through a retpoline thunk.
 */
#ifndef HOOK_BENCH_H
#define HOOK_BENCH_H

#include <stdint.h>

typedef int (*bench_callback_fn)(int a, int b);

/* A plain noinline function returning 0. */
int bench_bare(int a, int b);
/* The same body as a C hook (one 5-byte NOP at its entry). */
int bench_hook(int a, int b);
/* A static-call hook whose original is the Swift function bench_static_body. */
int bench_static_hook(int a, int b);
/* LSM-style callbacks returning 0. */
int bench_callback(int a, int b);

#define HOOK_BENCH_LOOPS(prefix) \
	uint64_t prefix##bare(uint64_t n); \
	uint64_t prefix##c_hook(uint64_t n); \
	uint64_t prefix##static_hook(uint64_t n); \
	uint64_t prefix##function_pointer(uint64_t n, bench_callback_fn callback); \
	uint64_t prefix##callback_list(uint64_t n, const bench_callback_fn *callbacks, int count);

HOOK_BENCH_LOOPS(plain_)
HOOK_BENCH_LOOPS(retpoline_)

#endif
