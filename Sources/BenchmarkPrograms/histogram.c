// A map-heavy loop: a histogram of 256 context bytes in an array map of 256 counters.
#include "bench.h"

#ifdef __bpf__
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, u32);
    __type(value, u64);
} counts SEC(".maps");
#define COUNTER(key) ((u64 *)bpf_map_lookup_elem(&counts, &(key)))
#else
static u64 counts[256];
static u64 *counter(const u32 *key) { return *key < 256 ? &counts[*key] : 0; }
#define COUNTER(key) counter(&(key))
void native_histogram_reset(void) {
    for (int i = 0; i < 256; i++) counts[i] = 0;
}
#endif

BENCH(histogram) {
    const u8 *data = ctx;
    u64 seen = 0;
    for (int i = 0; i < 256; i++) {
        u32 key = data[i];
        u64 *count = COUNTER(key);
        if (count) {
            *count += 1;
            seen += *count;
        }
    }
    return (long)seen;
}
