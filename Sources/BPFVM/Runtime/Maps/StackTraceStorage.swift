/// The storage of a stack trace map (`BPF_MAP_TYPE_STACK_TRACE`), laid out and operated as the
/// kernel's `stackmap.c`: `max_entries` rounded up to a power of two buckets, each holding one
/// stack (a lock word, the frame count, the stack's hash, then `value_size / 8` addresses); a
/// stack's id is its hash masked to the bucket count.
///
/// `bpf_get_stackid` stores the calling thread's stack (innermost frame first) and returns its
/// id: the same stack gets the same id; a different stack whose id is taken fails with `-EEXIST`
/// unless `BPF_F_REUSE_STACKID` lets it replace the one there. The memory is reserved when the map
/// is created and committed as buckets are written.
final class StackTraceStorage {
    let memory: StableMemory
    let bucketCount: Int
    let depth: Int
    private let bucketSize: Int
    private static let headerSize = 16

    /// `bpf_get_stackid` flags: frames to skip (bits 0-7), the user stack, comparing hashes only,
    /// replacing a different stack of the same id.
    static let skipMask: UInt64 = 0xff
    static let userStack: UInt64 = 1 << 8
    static let fastCompare: UInt64 = 1 << 9
    static let reuseID: UInt64 = 1 << 10

    init(_ definition: MapDefinition) throws(MapError) {
        var buckets = 1
        while buckets < definition.maxEntries { buckets <<= 1 }
        bucketCount = buckets
        depth = definition.valueSize / 8
        bucketSize = Self.headerSize + definition.valueSize
        var layout = StorageLayout(mapName: definition.name)
        _ = try layout.append(buckets, stride: bucketSize)
        memory = try StableMemory.allocate(layout.size, mapName: definition.name)
    }

    deinit { memory.release() }

    private func bucket(_ id: Int) -> UnsafeMutableRawPointer { memory.base + id * bucketSize }
    private func lock(_ id: Int) -> SpinLock { SpinLock(bucket(id)) }
    private func frameCount(_ id: Int) -> Int { Int(bucket(id).load(fromByteOffset: 4, as: UInt32.self)) }

    /// The kernel's `__bpf_get_stackid` for `frames` (innermost first, `skip` already applied):
    /// the stack's id, or the reason it has none.
    func store(_ frames: UnsafeBufferPointer<UInt64>, flags: UInt64) throws(MapError.Reason) -> Int {
        let count = min(frames.count, depth)
        let hash = UInt32(truncatingIfNeeded: KeyHashing.hash(UnsafeRawPointer(frames.baseAddress!), count: count * 8))
        let id = Int(hash) & (bucketCount - 1)
        let lock = lock(id)
        lock.lock()
        defer { lock.unlock() }
        let base = bucket(id)
        let stored = frameCount(id)
        if stored > 0 {
            let sameHash = base.load(fromByteOffset: 8, as: UInt32.self) == hash
            let same = flags & Self.fastCompare != 0
                ? sameHash
                : sameHash && stored == count
                    && KeyHashing.equal(base + Self.headerSize, frames.baseAddress!, count: count * 8)
            if same { return id }
            guard flags & Self.reuseID != 0 else { throw .keyExists }
        }
        (base + Self.headerSize).copyMemory(from: frames.baseAddress!, byteCount: count * 8)
        (base + Self.headerSize + count * 8).initializeMemory(as: UInt8.self, repeating: 0, count: (depth - count) * 8)
        base.storeBytes(of: hash, toByteOffset: 8, as: UInt32.self)
        base.storeBytes(of: UInt32(count), toByteOffset: 4, as: UInt32.self)
        return id
    }

    /// The frames of stack `id`, or nil when the id holds none.
    func frames(_ id: Int) -> [UInt64]? {
        guard id >= 0, id < bucketCount else { return nil }
        return lock(id).withLock {
            let count = frameCount(id)
            guard count > 0 else { return nil }
            return (0..<count).map { bucket(id).load(fromByteOffset: Self.headerSize + $0 * 8, as: UInt64.self) }
        }
    }

    /// The value of stack `id` as the host's lookup reads it: `value_size` bytes, the frames then zeros.
    func value(_ id: Int) -> [UInt8]? {
        frames(id).map { frames in
            frames.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
                + [UInt8](repeating: 0, count: (depth - frames.count) * 8)
        }
    }

    /// Empties stack `id` (`-ENOENT` when it holds none).
    func delete(_ id: Int) throws(MapError.Reason) {
        guard id >= 0, id < bucketCount else { throw .noSuchKey }
        let removed = lock(id).withLock {
            guard frameCount(id) > 0 else { return false }
            bucket(id).storeBytes(of: UInt32(0), toByteOffset: 4, as: UInt32.self)
            return true
        }
        if !removed { throw .noSuchKey }
    }

    /// The ids holding a stack, in increasing order.
    var ids: [Int] { (0..<bucketCount).filter { frameCount($0) > 0 } }
}
