import Atomics
import BPFVM

/// A verified program run by the interpreter from a trampoline: the trampoline calls
/// `entry(context, program)` directly (rel32), with this object's address as the fixed second
/// argument. A run that stops with an error (the instruction budget) returns 0 and is counted
/// in `failures`.
final class InterpretedProgram: @unchecked Sendable {
    let loaded: LoadedProgram
    private let failureCount = ManagedAtomic<UInt64>(0)

    /// `loaded` must have been verified (it runs unchecked).
    init(verified loaded: LoadedProgram) {
        self.loaded = loaded
    }

    /// Runs that ended in an error.
    var failures: UInt64 { failureCount.load(ordering: .relaxed) }

    /// The C-ABI entry trampolines call.
    static let entry: @convention(c) (UInt64, UnsafeRawPointer) -> UInt64 = { context, program in
        let interpreted = Unmanaged<InterpretedProgram>.fromOpaque(program).takeUnretainedValue()
        do {
            return try interpreted.loaded.run(arguments: [context], regions: [], checked: false)
        } catch {
            interpreted.failureCount.wrappingIncrement(ordering: .relaxed)
            return 0
        }
    }

    static var entryAddress: UInt64 { UInt64(UInt(bitPattern: unsafeBitCast(entry, to: UnsafeRawPointer.self))) }

    /// The address passed as the entry's second argument (the trampoline keeps this object alive).
    var opaqueAddress: UInt64 { UInt64(UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque())) }
}
