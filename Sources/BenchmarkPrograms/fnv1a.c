// Hashing: 64-bit FNV-1a over the first 512 bytes of the context.
#include "bench.h"

BENCH(fnv1a) {
    const u8 *data = ctx;
    u64 hash = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 512; i++) {
        hash ^= data[i];
        hash *= 0x100000001b3ULL;
    }
    return (long)hash;
}
