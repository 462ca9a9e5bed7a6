#define _GNU_SOURCE
#include "CSystemShims.h"
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

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
