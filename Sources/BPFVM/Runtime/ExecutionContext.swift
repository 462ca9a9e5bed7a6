import CSystemShims

/// The state helpers reach through the context pointer every helper receives: the trace sink
/// for `bpf_printk`, the generator behind `get_prandom_u32`, and the entry back into the running
/// engine that `bpf_loop` needs to call a BPF callback.
///
/// One context serves one run at a time; helpers find it with `ExecutionContext.from(_:)`.
public final class ExecutionContext: @unchecked Sendable {
    /// Where formatted `bpf_printk` / `bpf_trace_vprintk` lines go.
    public let trace: TraceSink
    /// Calls the BPF function at a code address with r1-r5 set from the arguments and returns r0;
    /// set by the engine for the duration of a run (nil outside one).
    public var callFunction: ((_ address: UInt64, _ arguments: [UInt64]) -> UInt64?)?
    /// The state of the pseudo-random generator behind `get_prandom_u32`.
    var random: UInt64

    public init(trace: TraceSink = TraceSink()) {
        self.trace = trace
        self.random = bpf_shim_random_seed() | 1
    }

    /// The context behind a helper's context pointer.
    @inline(__always)
    public static func from(_ pointer: UnsafeMutableRawPointer?) -> ExecutionContext? {
        guard let pointer else { return nil }
        return Unmanaged<ExecutionContext>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// The pointer to pass as a run's context (valid while the context lives).
    public var opaquePointer: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The next pseudo-random 32-bit value (xorshift64*).
    func nextRandom() -> UInt32 {
        random ^= random >> 12
        random ^= random << 25
        random ^= random >> 27
        return UInt32(truncatingIfNeeded: (random &* 0x2545_f491_4f6c_dd1d) >> 32)
    }
}
