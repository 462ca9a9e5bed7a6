import Atomics
#if canImport(Glibc)
import Glibc
#endif

/// A test-and-set lock on a 32-bit word of map memory; it spins briefly, then yields the CPU.
///
/// Critical sections in maps are a few hundred instructions at most, so spinning beats a
/// futex; yielding keeps a preempted holder from stalling the others for a whole time slice.
struct SpinLock {
    let word: UnsafeAtomic<UInt32>

    @inline(__always)
    init(_ address: UnsafeMutableRawPointer) {
        word = UnsafeAtomic(at: address.assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
    }

    @inline(__always)
    func lock() {
        if word.weakCompareExchange(expected: 0, desired: 1, successOrdering: .acquiring,
                                    failureOrdering: .relaxed).exchanged { return }
        lockSlowly()
    }

    @inline(never)
    private func lockSlowly() {
        var spins = 0
        while true {
            if word.load(ordering: .relaxed) == 0,
               word.weakCompareExchange(expected: 0, desired: 1, successOrdering: .acquiring,
                                        failureOrdering: .relaxed).exchanged { return }
            spins += 1
            if spins >= 100 { sched_yield() }
        }
    }

    @inline(__always)
    func unlock() { word.store(0, ordering: .releasing) }

    @inline(__always)
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// An atomic view of a 32-bit word of map memory.
@inline(__always)
func atomicWord(_ address: UnsafeMutableRawPointer) -> UnsafeAtomic<UInt32> {
    UnsafeAtomic(at: address.assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
}

/// An atomic view of a 64-bit word of map memory.
@inline(__always)
func atomicDoubleWord(_ address: UnsafeMutableRawPointer) -> UnsafeAtomic<UInt64> {
    UnsafeAtomic(at: address.assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
}
