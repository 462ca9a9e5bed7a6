import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The process-wide assignment of per-thread map slots: slot `i` of every per-thread map
/// belongs to the same thread, as CPU `i` of every per-CPU map is the same CPU in the kernel.
///
/// A thread gets a slot the first time it touches a per-thread map and gives it back when it
/// exits (a `pthread` key destructor). There are ``capacity`` slots; when all are taken, further
/// threads share slots round-robin (see ``Map`` for what that means).
final class ThreadSlots: Sendable {
    static let shared = ThreadSlots()

    /// How many slots every per-thread map holds: `max(64, 4 × configured CPUs)`, at most 1024.
    let capacity: Int
    /// The `pthread` key holding each thread's encoded slot; storages keep a copy so that their
    /// hot paths skip the lazy initialisation check of ``shared``.
    let key: pthread_key_t
    private let state: Mutex<State>

    private struct State {
        var free: [Int] = []
        var nextFresh = 0
        var nextShared = 0
    }

    private init() {
        let cpus = max(1, sysconf(Int32(_SC_NPROCESSORS_CONF)))
        capacity = min(1024, max(64, 4 * cpus))
        state = Mutex(State())
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
        let (slot, shared) = state.withLock { state -> (Int, Bool) in
            if let slot = state.free.popLast() { return (slot, false) }
            if state.nextFresh < capacity {
                state.nextFresh += 1
                return (state.nextFresh - 1, false)
            }
            state.nextShared += 1
            return ((state.nextShared - 1) % capacity, true)
        }
        // Encoded as (slot + 1) << 1 | shared, so that no slot is a null pointer.
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: UInt(slot + 1) << 1 | (shared ? 1 : 0)))
        return slot
    }

    private func release(_ encoded: UInt) {
        guard encoded & 1 == 0 else { return }  // shared slots stay with their owner
        let slot = Int(encoded >> 1) - 1
        state.withLock { state in
            // Keep the lowest slots in use first: the pool is small, a sort is cheap.
            state.free.append(slot)
            state.free.sort(by: >)
        }
    }
}
