// The benchmark programs are written once, in C, and built twice from the same source: for
// BPF (clang -target bpf, run by the JIT and the interpreter) and natively with -O2 (this C
// target, called directly). This header hides the difference: a program is
// `BENCH(name)` over a context of BENCH_CONTEXT_SIZE bytes; maps and helpers have a native
// stand-in doing the same work.
#ifndef BENCH_H
#define BENCH_H

#define BENCH_CONTEXT_SIZE 1024

#ifdef __bpf__
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
#define BENCH(name) SEC("socket") long name(void *ctx)
#define PRANDOM() bpf_get_prandom_u32()
#else
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#define BENCH(name) long native_##name(void *ctx)
/// The native stand-in for bpf_get_prandom_u32: the same xorshift64* the runtime's helper uses,
/// behind a call, as the helper is.
u32 bench_prandom(void);
#define PRANDOM() bench_prandom()
#endif

#endif
