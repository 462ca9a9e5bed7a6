import CJITSupport

/// The optional instruction-set extensions the compiler uses when the host CPU has them.
struct CPUFeatures: Hashable, Sendable {
    /// `shlx`/`shrx`/`sarx`: shifts by any register, without tying up rcx (BPF r4).
    var bmi2: Bool

    /// The host CPU's.
    static let host = CPUFeatures(bmi2: bpf_jit_cpu_has_bmi2() != 0)
}
