/// How the JIT compiles a program.
public struct JITOptions: Sendable, Hashable {
    /// Blinds every immediate a program chose (ALU and jump operands, stored constants, 64-bit
    /// loads): each is emitted XORed with a random key and decoded into a scratch register at
    /// run time, so that no constant a program picked appears in the machine code (as the
    /// kernel's `bpf_jit_harden`). Costs one or two instructions per immediate.
    public var blindsConstants: Bool

    public init(blindsConstants: Bool = false) {
        self.blindsConstants = blindsConstants
    }
}
