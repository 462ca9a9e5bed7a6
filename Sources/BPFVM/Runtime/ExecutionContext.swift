import Atomics
import CSystemShims
import Synchronization

/// What the runs of one object's programs share: the trace sink `bpf_printk` writes to and the
/// cgroup the runs' "current task" is in. Thread-safe, so any number of threads may run
/// programs with one context at once; everything that changes during a run lives in that
/// run's `RunContext`.
public final class ExecutionContext: Sendable {
    /// Where formatted `bpf_printk` / `bpf_trace_vprintk` lines go.
    public let trace: TraceSink
    /// Hands each run a distinct seed for `get_prandom_u32`.
    private let seeds = ManagedAtomic<UInt64>(0)
    private let seedBase: UInt64
    private let currentCgroup: Mutex<Cgroup>

    /// A context whose runs are in `cgroup` (by default the host process's own).
    public init(trace: TraceSink = TraceSink(), cgroup: Cgroup = .ofProcess) {
        self.trace = trace
        self.seedBase = RunContext.mix(bpf_shim_random_seed())
        self.currentCgroup = Mutex(cgroup)
    }

    /// The cgroup runs are in, for `bpf_get_current_cgroup_id` and
    /// `bpf_current_task_under_cgroup`; the host may change it at any time.
    public var cgroup: Cgroup {
        get { currentCgroup.withLock { $0 } }
        set { currentCgroup.withLock { $0 = newValue } }
    }

    /// The context of the run behind a helper's context pointer (nil for a run without one).
    @inline(__always)
    public static func from(_ pointer: UnsafeMutableRawPointer?) -> ExecutionContext? {
        guard let pointer else { return nil }
        return pointer.assumingMemoryBound(to: RunContext.self).pointee.shared?.takeUnretainedValue()
    }

    /// A fresh seed for one run's generator.
    func nextSeed() -> UInt64 {
        RunContext.mix(seedBase &+ seeds.loadThenWrappingIncrement(ordering: .relaxed))
    }
}

/// The state one run keeps for its helpers, in the run's own memory: every helper receives a
/// pointer to it as its context argument. Nothing in it is shared with another run.
public struct RunContext {
    /// The shared context of the object (nil for a bare run).
    let shared: Unmanaged<ExecutionContext>?
    /// The state of the pseudo-random generator behind `get_prandom_u32`, seeded on first use.
    var random: UInt64 = 0
    /// An address in the frame of the function that started the run: the frames above it are
    /// the host's, those below the runtime's (for the user stacks `get_stackid` records).
    let stackBoundary: UInt64

    /// The byte offset of `stackBoundary` (code that builds a run's context in place sets it).
    package static var stackBoundaryOffset: Int { MemoryLayout<RunContext>.offset(of: \RunContext.stackBoundary)! }

    package init(shared: ExecutionContext?, stackBoundary: UInt64 = 0) {
        self.shared = shared.map { Unmanaged.passUnretained($0) }
        self.stackBoundary = stackBoundary
    }

    /// The stack boundary of the run behind a helper's context pointer (0 for none: every frame).
    public static func stackBoundary(_ pointer: UnsafeMutableRawPointer?) -> UInt64 {
        pointer?.assumingMemoryBound(to: RunContext.self).pointee.stackBoundary ?? 0
    }

    /// The next pseudo-random 32-bit value of the run behind a helper's context pointer
    /// (xorshift64*, seeded per run).
    public static func nextRandom(_ pointer: UnsafeMutableRawPointer?) -> UInt32 {
        guard let run = pointer?.assumingMemoryBound(to: RunContext.self) else { return 4 }
        if run.pointee.random == 0 {
            run.pointee.random = (run.pointee.shared?.takeUnretainedValue().nextSeed() ?? mix(bpf_shim_random_seed())) | 1
        }
        var state = run.pointee.random
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        run.pointee.random = state
        return UInt32(truncatingIfNeeded: (state &* 0x2545_f491_4f6c_dd1d) >> 32)
    }

    /// splitmix64's finaliser: spreads a counter into a well-mixed seed.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
