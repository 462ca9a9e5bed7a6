// Loops without recursion: the product of two 8x8 matrices of context words, summed.
#include "bench.h"

BENCH(matrix) {
    const u32 *a = ctx;
    const u32 *b = (const u32 *)ctx + 64;
    u64 total = 0;
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 8; j++) {
            u32 cell = 0;
            for (int k = 0; k < 8; k++) cell += a[i * 8 + k] * b[k * 8 + j];
            total = total * 3 + cell;
        }
    }
    return (long)total;
}
