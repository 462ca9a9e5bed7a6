// What the JIT needs that Swift cannot express: a SIGSEGV/SIGBUS handler that consults the
// exception tables of compiled code, so that the loads the verifier marked as fault-safe (reads
// through host pointers) read 0 instead of crashing the host; and the CPU's feature bits
// (cpuid). Nothing else belongs here.
#ifndef C_JIT_SUPPORT_H
#define C_JIT_SUPPORT_H

#include <stdint.h>

/// One fault-safe load: where it is (bytes from the start of its code region), where execution
/// resumes (the next instruction), and the x86 register (0 rax ... 15 r15) that reads 0.
typedef struct {
    uint32_t fault_offset;
    uint32_t resume_offset;
    uint32_t register_number;
} bpf_jit_fault_entry;

/// Installs the SIGSEGV and SIGBUS handlers once (later calls do nothing). A fault that is not
/// at an entry of a registered table goes to the handler installed before, or to the default
/// action. Returns 0, or the errno of the failed sigaction.
int bpf_jit_faults_install(void);

/// Registers the exception table of the code in [start, end): `entries` sorted by
/// `fault_offset`, valid until unregistered. Returns the registration's slot, or -1 when every
/// slot is taken.
int32_t bpf_jit_faults_register(uintptr_t start, uintptr_t end, const bpf_jit_fault_entry *entries,
                                uint32_t count);

/// Removes the registration in `slot` (before its code and table are freed).
void bpf_jit_faults_unregister(int32_t slot);

/// How many tables can be registered at once.
#define BPF_JIT_FAULT_SLOTS 1024

/// Whether the CPU has BMI2 (`shlx`, `shrx`, `sarx`).
int bpf_jit_cpu_has_bmi2(void);

/// Whether the CPU has `movbe`.
int bpf_jit_cpu_has_movbe(void);

#endif
