import Atomics

/// Slots of objects that programs reach without a lock: the programs of a program array
/// (`BPF_MAP_TYPE_PROG_ARRAY`, for tail calls) and the maps of an array of maps.
///
/// Each slot is an atomic word holding an unretained pointer to the object, so a tail call or
/// a lookup reads it without a lock. The table keeps strong references to the current objects
/// and to every object it has replaced, so a pointer read concurrently with a replacement never
/// dangles; ``removeAll()`` drops them all and must only run while no program executes.
final class ObjectSlots: @unchecked Sendable {
    let capacity: Int
    private let slots: UnsafeMutablePointer<UnsafeAtomic<UInt>.Storage>
    private let lockWord: UnsafeMutableRawPointer
    private var current: [AnyObject?]
    private var retired: [AnyObject] = []

    init(capacity: Int) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: UnsafeAtomic<UInt>.Storage(0), count: capacity)
        lockWord = .allocate(byteCount: 4, alignment: 4)
        lockWord.storeBytes(of: 0, as: UInt32.self)
        current = Array(repeating: nil, count: capacity)
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
        lockWord.deallocate()
    }

    private var lock: SpinLock { SpinLock(lockWord) }

    @inline(__always)
    private func slot(_ index: Int) -> UnsafeAtomic<UInt> { UnsafeAtomic(at: slots + index) }

    /// Stores `object` (nil clears) at `index` and returns whether the slot held one before.
    @discardableResult
    func set(_ object: AnyObject?, at index: Int) -> Bool {
        lock.withLock {
            let old = current[index]
            if let old { retired.append(old) }
            current[index] = object
            let pointer = object.map { UInt(bitPattern: Unmanaged.passUnretained($0).toOpaque()) } ?? 0
            slot(index).store(pointer, ordering: .releasing)
            return old != nil
        }
    }

    /// The unretained object pointer at `index` (nil when empty), without a lock.
    @inline(__always)
    func pointer(at index: Int) -> UnsafeRawPointer? {
        UnsafeRawPointer(bitPattern: slot(index).load(ordering: .acquiring))
    }

    /// The object at `index`.
    func object(at index: Int) -> AnyObject? {
        guard let pointer = pointer(at: index) else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// The indices holding an object.
    var occupiedIndices: [Int] { lock.withLock { current.indices.filter { current[$0] != nil } } }

    /// Empties every slot and releases all objects, current and replaced.
    func removeAll() {
        lock.withLock {
            for index in 0..<capacity { slot(index).store(0, ordering: .releasing) }
            current = Array(repeating: nil, count: capacity)
            retired = []
        }
    }
}
