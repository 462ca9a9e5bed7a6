// The benchmark programs compiled natively (-O2): each takes the context memory
// (BENCH_CONTEXT_SIZE bytes) and returns what its BPF build returns in r0.
#ifndef BENCHMARK_PROGRAMS_H
#define BENCHMARK_PROGRAMS_H

#include "bench.h"

long native_fnv1a(void *ctx);
long native_crc32(void *ctx);
long native_sort(void *ctx);
long native_divide(void *ctx);
long native_bits(void *ctx);
long native_matrix(void *ctx);
long native_histogram(void *ctx);
long native_random(void *ctx);
/// Resets the native histogram's counters (the BPF build's array map is reset by the harness).
void native_histogram_reset(void);

#endif
