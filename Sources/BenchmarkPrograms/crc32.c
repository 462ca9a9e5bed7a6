// CRC: bitwise (table-less) CRC-32 over the first 128 bytes of the context.
#include "bench.h"

BENCH(crc32) {
    const u8 *data = ctx;
    u32 crc = 0xffffffff;
    for (int i = 0; i < 128; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
    }
    return ~crc;
}
