// Tiny wrappers over Linux calls that Swift cannot reach directly (they need _GNU_SOURCE, or
// their headers are not part of the Glibc module). Nothing else belongs here.
#ifndef C_SYSTEM_SHIMS_H
#define C_SYSTEM_SHIMS_H

#include <stddef.h>
#include <stdint.h>

/// The calling thread's kernel thread id (gettid(2)).
int32_t bpf_shim_gettid(void);

/// Copies `count` bytes from `source` in this process to `destination` through
/// process_vm_readv(2), which reports a bad address as an error instead of faulting.
/// Returns the number of bytes copied, or -1.
int64_t bpf_shim_read_own_memory(void *destination, uint64_t source, size_t count);

/// The calling thread's name (prctl(PR_GET_NAME)), NUL-terminated, into a 16-byte buffer.
void bpf_shim_thread_name(char name[16]);

/// 64 random bits from the kernel (getrandom(2)); 0 if none could be had.
uint64_t bpf_shim_random_seed(void);

/// The calling thread's stack as instruction addresses, innermost first, of the frames whose
/// canonical frame address lies above `boundary` (0: every frame, this function's first),
/// found by unwinding (libgcc's _Unwind_Backtrace): at most `capacity`; returns how many.
int32_t bpf_shim_user_stack(uint64_t *frames, int32_t capacity, uint64_t boundary);

/// What the dynamic linker knows of a code address (dladdr(3)): the nearest exported symbol
/// (NULL when none) and its start, the module's path and load base. Returns 0 when the address
/// is in no module.
int32_t bpf_shim_symbol(uint64_t address, const char **symbol, uint64_t *symbolStart, const char **module,
                        uint64_t *moduleBase);

#endif

// Unaligned loads and stores of host memory for the interpreter loop. Static inline, so that
// the compiler inlines each into a single `mov` wherever the loop uses it (Swift's generic
// `loadUnaligned` / `storeBytes` are sometimes left as calls in a function as large as the
// loop).
static inline uint8_t bpf_load8(uint64_t address) { return *(const uint8_t *)(uintptr_t)address; }
static inline uint16_t bpf_load16(uint64_t address) {
    uint16_t value;
    __builtin_memcpy(&value, (const void *)(uintptr_t)address, sizeof value);
    return value;
}
static inline uint32_t bpf_load32(uint64_t address) {
    uint32_t value;
    __builtin_memcpy(&value, (const void *)(uintptr_t)address, sizeof value);
    return value;
}
static inline uint64_t bpf_load64(uint64_t address) {
    uint64_t value;
    __builtin_memcpy(&value, (const void *)(uintptr_t)address, sizeof value);
    return value;
}
static inline void bpf_store8(uint64_t address, uint8_t value) { *(uint8_t *)(uintptr_t)address = value; }
static inline void bpf_store16(uint64_t address, uint16_t value) {
    __builtin_memcpy((void *)(uintptr_t)address, &value, sizeof value);
}
static inline void bpf_store32(uint64_t address, uint32_t value) {
    __builtin_memcpy((void *)(uintptr_t)address, &value, sizeof value);
}
static inline void bpf_store64(uint64_t address, uint64_t value) {
    __builtin_memcpy((void *)(uintptr_t)address, &value, sizeof value);
}
