// Bit tricks: population count, bit reversal and trailing zeros (SWAR) of 128 context words.
#include "bench.h"

BENCH(bits) {
    const u32 *words = ctx;
    u64 total = 0;
    for (int i = 0; i < 128; i++) {
        u32 v = words[i];
        u32 count = v - ((v >> 1) & 0x55555555);
        count = (count & 0x33333333) + ((count >> 2) & 0x33333333);
        count = (((count + (count >> 4)) & 0x0f0f0f0f) * 0x01010101) >> 24;
        u32 r = ((v >> 1) & 0x55555555) | ((v & 0x55555555) << 1);
        r = ((r >> 2) & 0x33333333) | ((r & 0x33333333) << 2);
        r = ((r >> 4) & 0x0f0f0f0f) | ((r & 0x0f0f0f0f) << 4);
        r = ((r >> 8) & 0x00ff00ff) | ((r & 0x00ff00ff) << 8);
        r = (r >> 16) | (r << 16);
        u32 lowest = v & -v;
        total += count + (r ^ lowest);
    }
    return (long)total;
}
