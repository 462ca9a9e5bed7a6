// Integer math with division: quotients and remainders of context words by every divisor up to 256.
#include "bench.h"

BENCH(divide) {
    const u64 *words = ctx;
    u64 x = words[0] | 1, y = words[1] >> 3, total = 0;
    for (u64 d = 1; d <= 256; d++) {
        total += x / d + y % d;
        x ^= total;
    }
    return (long)total;
}
