#define _GNU_SOURCE
#include "CJITSupport.h"

#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <ucontext.h>

// One registration, read by the signal handler under a sequence lock: the writer makes the
// sequence odd, writes, and makes it even again; a reader retries until it sees the same even
// sequence before and after reading. The handler only trusts a registration whose range holds
// the faulting instruction, and such code (with its table) cannot be freed while it runs.
typedef struct {
    _Atomic uint32_t sequence;
    _Atomic uint32_t taken;
    _Atomic uintptr_t start, end;
    _Atomic(const bpf_jit_fault_entry *) entries;
    _Atomic uint32_t count;
} registration;

static registration slots[BPF_JIT_FAULT_SLOTS];
static struct sigaction previous_segv, previous_bus;
static atomic_int installed;

// gregs index of each x86 register number (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8-r15).
static const int greg_of_register[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static int recover(ucontext_t *context) {
    uintptr_t rip = (uintptr_t)context->uc_mcontext.gregs[REG_RIP];
    for (int index = 0; index < BPF_JIT_FAULT_SLOTS; index++) {
        registration *slot = &slots[index];
        if (!atomic_load_explicit(&slot->taken, memory_order_acquire)) continue;
        uintptr_t start, end;
        const bpf_jit_fault_entry *entries;
        uint32_t count, before, after;
        do {
            before = atomic_load_explicit(&slot->sequence, memory_order_acquire);
            start = atomic_load_explicit(&slot->start, memory_order_relaxed);
            end = atomic_load_explicit(&slot->end, memory_order_relaxed);
            entries = atomic_load_explicit(&slot->entries, memory_order_relaxed);
            count = atomic_load_explicit(&slot->count, memory_order_relaxed);
            atomic_thread_fence(memory_order_acquire);
            after = atomic_load_explicit(&slot->sequence, memory_order_relaxed);
        } while ((before & 1) != 0 || before != after);
        if (rip < start || rip >= end || entries == NULL) continue;
        uint32_t offset = (uint32_t)(rip - start), low = 0, high = count;
        while (low < high) {
            uint32_t middle = low + (high - low) / 2;
            if (entries[middle].fault_offset < offset) low = middle + 1; else high = middle;
        }
        if (low == count || entries[low].fault_offset != offset) return 0;
        context->uc_mcontext.gregs[greg_of_register[entries[low].register_number & 15]] = 0;
        context->uc_mcontext.gregs[REG_RIP] = (greg_t)(start + entries[low].resume_offset);
        return 1;
    }
    return 0;
}

static void handler(int signal_number, siginfo_t *info, void *context) {
    if (recover((ucontext_t *)context)) return;
    struct sigaction *previous = signal_number == SIGSEGV ? &previous_segv : &previous_bus;
    if ((previous->sa_flags & SA_SIGINFO) && previous->sa_sigaction != NULL) {
        previous->sa_sigaction(signal_number, info, context);
    } else if (previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN) {
        previous->sa_handler(signal_number);
    } else {
        // The default action: restore it; the faulting instruction runs again and faults for good.
        sigaction(signal_number, previous, NULL);
    }
}

int bpf_jit_faults_install(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGSEGV, &action, &previous_segv) != 0) return errno;
    if (sigaction(SIGBUS, &action, &previous_bus) != 0) return errno;
    return 0;
}

int32_t bpf_jit_faults_register(uintptr_t start, uintptr_t end, const bpf_jit_fault_entry *entries,
                                uint32_t count) {
    for (int32_t index = 0; index < BPF_JIT_FAULT_SLOTS; index++) {
        registration *slot = &slots[index];
        uint32_t free_slot = 0;
        if (!atomic_compare_exchange_strong(&slot->taken, &free_slot, 1)) continue;
        atomic_fetch_add_explicit(&slot->sequence, 1, memory_order_acq_rel);
        atomic_store_explicit(&slot->start, start, memory_order_relaxed);
        atomic_store_explicit(&slot->end, end, memory_order_relaxed);
        atomic_store_explicit(&slot->entries, entries, memory_order_relaxed);
        atomic_store_explicit(&slot->count, count, memory_order_relaxed);
        atomic_fetch_add_explicit(&slot->sequence, 1, memory_order_release);
        return index;
    }
    return -1;
}

void bpf_jit_faults_unregister(int32_t index) {
    if (index < 0 || index >= BPF_JIT_FAULT_SLOTS) return;
    registration *slot = &slots[index];
    atomic_fetch_add_explicit(&slot->sequence, 1, memory_order_acq_rel);
    atomic_store_explicit(&slot->start, 0, memory_order_relaxed);
    atomic_store_explicit(&slot->end, 0, memory_order_relaxed);
    atomic_store_explicit(&slot->entries, NULL, memory_order_relaxed);
    atomic_store_explicit(&slot->count, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&slot->sequence, 1, memory_order_release);
    atomic_store_explicit(&slot->taken, 0, memory_order_release);
}

int bpf_jit_cpu_has_bmi2(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx >> 8) & 1;
}

int bpf_jit_cpu_has_movbe(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx >> 22) & 1;
}
