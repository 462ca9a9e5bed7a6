import Atomics
#if canImport(Glibc)
import Glibc
#endif

/// The process-wide assignment of per-thread map slots: slot `i` of every per-thread map
/// belongs to the same thread, as CPU `i` of every per-CPU map is the same CPU in the kernel.
///
/// A thread gets a slot the first time it touches a per-thread map (the lowest free one) and
/// gives it back when it exits (a `pthread` key destructor). There are ``capacity`` slots; when
/// all are taken, further threads share slots round-robin (see ``Map`` for what that means).
///
/// The slots taken are bits of atomic words, claimed with a compare-and-exchange that acquires
/// and given back with an atomic AND that releases: a thread that inherits a slot sees everything the
/// slot's previous owner wrote there. (A lock would do as well, but `Synchronization.Mutex`
/// waits in code the thread sanitizer cannot see, so it took the contended hand-over of a
/// mutex for a race.)
final class ThreadSlots: Sendable {
    static let shared = ThreadSlots()

    /// How many slots every per-thread map holds: `max(64, 4 × configured CPUs)`, at most 1024.
    let capacity: Int
    /// The `pthread` key holding each thread's encoded slot; storages keep a copy so that their
    /// hot paths skip the lazy initialisation check of ``shared``.
    let key: pthread_key_t
    /// Bit `i % 64` of word `i / 64` is set while slot `i` belongs to a live thread.
    private let taken: [ManagedAtomic<UInt64>]
    /// The next slot handed out to share when every slot is taken.
    private let nextShared = ManagedAtomic<Int>(0)

    private init() {
        let cpus = max(1, sysconf(Int32(_SC_NPROCESSORS_CONF)))
        capacity = min(1024, max(64, 4 * cpus))
        taken = (0..<(capacity + 63) / 64).map { _ in ManagedAtomic<UInt64>(0) }
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { value in
            guard let value else { return }
            ThreadSlots.shared.release(UInt(bitPattern: value))
        }
        precondition(status == 0, "pthread_key_create failed (\(status)): too many thread-specific keys")
        self.key = key
    }

    /// The calling thread's slot, assigned on first use.
    @inline(__always)
    var current: Int { Self.current(key: key) }

    /// The calling thread's slot, given ``key``.
    @inline(__always)
    static func current(key: pthread_key_t) -> Int {
        if let value = pthread_getspecific(key) { return Int(UInt(bitPattern: value) >> 1) - 1 }
        return shared.assign()
    }

    @inline(never)
    private func assign() -> Int {
        let (slot, shared) = claimLowestFree().map { ($0, false) }
            ?? (nextShared.loadThenWrappingIncrement(ordering: .relaxed) % capacity, true)
        // Encoded as (slot + 1) << 1 | shared, so that no slot is a null pointer.
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: UInt(slot + 1) << 1 | (shared ? 1 : 0)))
        return slot
    }

    /// Takes the lowest free slot, or returns nil when every slot is taken.
    private func claimLowestFree() -> Int? {
        for (index, word) in taken.enumerated() {
            var bits = word.load(ordering: .relaxed)
            while true {
                let bit = (~bits).trailingZeroBitCount
                guard bit < 64, index * 64 + bit < capacity else { break }
                let (exchanged, original) = word.weakCompareExchange(
                    expected: bits, desired: bits | 1 << UInt64(bit), successOrdering: .acquiring,
                    failureOrdering: .relaxed)
                if exchanged { return index * 64 + bit }
                bits = original
            }
        }
        return nil
    }

    private func release(_ encoded: UInt) {
        guard encoded & 1 == 0 else { return }  // shared slots stay with their owner
        let slot = Int(encoded >> 1) - 1
        _ = taken[slot / 64].loadThenBitwiseAnd(with: ~(1 << UInt64(slot % 64)), ordering: .releasing)
    }
}
