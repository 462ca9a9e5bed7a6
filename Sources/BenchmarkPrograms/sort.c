// Sorting: insertion sort of a copy of 32 context words (in the context's second half);
// returns a checksum of the order.
#include "bench.h"

BENCH(sort) {
    const u32 *words = ctx;
    u32 *a = (u32 *)ctx + 128;
    for (int i = 0; i < 32; i++) a[i] = words[i];
    for (int i = 1; i < 32; i++) {
        u32 key = a[i];
        int j = i;
        while (j > 0 && a[j - 1] > key) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = key;
    }
    u64 sum = 0;
    for (int i = 0; i < 32; i++) sum = sum * 31 + a[i];
    return (long)sum;
}
