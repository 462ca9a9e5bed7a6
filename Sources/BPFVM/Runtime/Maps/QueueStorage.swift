/// The storage of a queue (FIFO) or stack (LIFO) map: a ring of `max_entries` values in one
/// allocation it owns, guarded by a spin lock, with the kernel's `queue_stack_maps.c` semantics.
///
/// Push onto a full map fails with `E2BIG` unless the flags are `BPF_EXIST`, which drops the
/// oldest element (for stacks too: the bottom one). Pop and peek on an empty map fail with
/// `ENOENT`. Values are copied in and out; programs never get pointers into the ring.
final class QueueStorage {
    // Control block: lock, index of the oldest element, element count.
    private static let lockOffset = 0
    private static let oldestOffset = 8
    private static let countOffset = 16
    private static let controlSize = 64

    let memory: StableMemory
    let control: UnsafeMutableRawPointer
    let elements: UnsafeMutableRawPointer
    let valueSize: Int
    let stride: Int
    let capacity: Int
    let isStack: Bool

    static func size(of definition: MapDefinition) throws(MapError) -> Int {
        var layout = StorageLayout(mapName: definition.name)
        _ = try layout.append(controlSize)
        _ = try layout.append(definition.maxEntries, stride: roundUp(definition.valueSize, to: 8))
        return layout.size
    }

    init(_ definition: MapDefinition) throws(MapError) {
        memory = try StableMemory.allocate(try Self.size(of: definition), mapName: definition.name)
        control = memory.base
        elements = memory.base + Self.controlSize
        valueSize = definition.valueSize
        stride = roundUp(definition.valueSize, to: 8)
        capacity = definition.maxEntries
        isStack = definition.type == .stack
    }

    deinit { memory.release() }

    private var lock: SpinLock { SpinLock(control + Self.lockOffset) }
    private var oldest: Int {
        get { control.load(fromByteOffset: Self.oldestOffset, as: Int.self) }
        set { control.storeBytes(of: newValue, toByteOffset: Self.oldestOffset, as: Int.self) }
    }
    private var storedCount: Int {
        get { control.load(fromByteOffset: Self.countOffset, as: Int.self) }
        set { control.storeBytes(of: newValue, toByteOffset: Self.countOffset, as: Int.self) }
    }
    private func element(_ position: Int) -> UnsafeMutableRawPointer {
        elements + (position % capacity) * stride
    }

    /// The number of elements held.
    var count: Int { lock.withLock { storedCount } }

    /// `queue_stack_map_push_elem`: flags 0 or `BPF_EXIST` (overwrite the oldest when full).
    func push(_ value: UnsafeRawPointer, flags: UInt64) throws(MapError.Reason) {
        guard flags == 0 || flags == MapUpdateFlags.exist.rawValue else {
            throw .invalidFlags(flags, expected: "0, or BPF_EXIST (2) to overwrite the oldest element when full")
        }
        try lock.withLock { () throws(MapError.Reason) in
            if storedCount == capacity {
                guard flags == MapUpdateFlags.exist.rawValue else { throw .full }
                oldest = (oldest + 1) % capacity
                storedCount -= 1
            }
            element(oldest + storedCount).copyMemory(from: value, byteCount: valueSize)
            storedCount += 1
        }
    }

    /// Copies the next element (oldest for a queue, newest for a stack) out, removing it when
    /// `remove` is set.
    func take(into output: UnsafeMutableRawPointer, remove: Bool) throws(MapError.Reason) {
        try lock.withLock { () throws(MapError.Reason) in
            guard storedCount > 0 else { throw .empty }
            let position = isStack ? oldest + storedCount - 1 : oldest
            output.copyMemory(from: element(position), byteCount: valueSize)
            guard remove else { return }
            if !isStack { oldest = (oldest + 1) % capacity }
            storedCount -= 1
        }
    }
}
