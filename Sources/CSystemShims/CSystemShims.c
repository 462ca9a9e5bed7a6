#define _GNU_SOURCE
#include "CSystemShims.h"
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <dlfcn.h>
#include <unwind.h>

int32_t bpf_shim_gettid(void) { return (int32_t)syscall(SYS_gettid); }

int64_t bpf_shim_read_own_memory(void *destination, uint64_t source, size_t count) {
    struct iovec local = {.iov_base = destination, .iov_len = count};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)source, .iov_len = count};
    return (int64_t)process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
}

void bpf_shim_thread_name(char name[16]) {
    memset(name, 0, 16);
    prctl(PR_GET_NAME, name, 0, 0, 0);
    name[15] = 0;
}

uint64_t bpf_shim_random_seed(void) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != sizeof seed) return 0;
    return seed;
}

struct stack_walk {
    uint64_t *frames;
    int32_t capacity;
    int32_t count;
    uint64_t boundary;
};

static _Unwind_Reason_Code record_frame(struct _Unwind_Context *context, void *argument) {
    struct stack_walk *walk = argument;
    if ((uint64_t)_Unwind_GetCFA(context) <= walk->boundary) return _URC_NO_REASON;
    if (walk->count == walk->capacity) return _URC_END_OF_STACK;
    uint64_t ip = (uint64_t)_Unwind_GetIP(context);
    if (ip == 0) return _URC_END_OF_STACK;
    walk->frames[walk->count++] = ip;
    return _URC_NO_REASON;
}

int32_t bpf_shim_user_stack(uint64_t *frames, int32_t capacity, uint64_t boundary) {
    struct stack_walk walk = {.frames = frames, .capacity = capacity, .count = 0, .boundary = boundary};
    _Unwind_Backtrace(record_frame, &walk);
    return walk.count;
}

int32_t bpf_shim_symbol(uint64_t address, const char **symbol, uint64_t *symbolStart, const char **module,
                        uint64_t *moduleBase) {
    Dl_info info;
    if (dladdr((const void *)(uintptr_t)address, &info) == 0) return 0;
    *symbol = info.dli_sname;
    *symbolStart = (uint64_t)(uintptr_t)info.dli_saddr;
    *module = info.dli_fname;
    *moduleBase = (uint64_t)(uintptr_t)info.dli_fbase;
    return 1;
}
