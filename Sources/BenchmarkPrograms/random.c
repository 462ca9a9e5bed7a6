// A helper-call loop: 256 calls to bpf_get_prandom_u32 (natively, a call to the same generator).
#include "bench.h"

#ifndef __bpf__
static u64 state = 0x9e3779b97f4a7c15ULL;
__attribute__((noinline)) u32 bench_prandom(void) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (u32)((state * 0x2545f4914f6cdd1dULL) >> 32);
}
#endif

BENCH(random) {
    const u32 *words = ctx;
    u64 total = words[0];
    for (int i = 0; i < 256; i++) total += PRANDOM() & 0xff;
    return (long)total;
}
