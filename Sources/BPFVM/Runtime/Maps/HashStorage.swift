import Atomics
#if canImport(Glibc)
import Glibc
#endif

/// The storage of a hash, per-thread hash or LRU hash map: `max_entries` preallocated elements
/// in one allocation that never moves and that the storage owns, chained into `2^k ≥ max_entries` buckets.
///
/// Layout (one `mmap`): a control block (free-list head, element count, LRU list), the buckets
/// (chain head and spin lock, 8 bytes each), per-element metadata (chain link, hash, free-list
/// link, LRU links and reference bit), the keys, and last the values (slot-major for per-thread
/// maps), which alone are exposed to programs.
///
/// Concurrency:
/// - Lookups take no lock. Chains end in a "nulls" marker naming their bucket, as the kernel's
///   `hlist_nulls`: a deleted element keeps its link until it is reused, and a reader that
///   followed a reused element into another chain sees the wrong marker and starts over.
/// - Updates and deletes take the bucket's spin lock; free elements sit on a lock-free stack
///   (a tagged head, so no ABA) fed by deletes and, before that, by never-used elements.
/// - Updating an existing key copies the new value in place, so a pointer a program holds keeps
///   pointing at that key's value; a concurrent reader may see a torn value, as with arrays.
/// - LRU maps keep elements on one list (its own spin lock; lock order LRU list → bucket, and no
///   path holds a bucket lock while taking the list lock). Lookups only set a reference bit;
///   eviction walks from the least recently inserted end, gives referenced elements a second
///   chance (clears the bit and moves them to the front) and evicts the first unreferenced one:
///   the kernel's approximation of LRU, exact for single-threaded insert/lookup sequences.
final class HashStorage {
    // Control block offsets.
    private static let freeHeadOffset = 0
    private static let freshOffset = 8
    private static let countOffset = 64
    private static let lruLockOffset = 128
    private static let lruHeadOffset = 132
    private static let lruTailOffset = 136
    private static let controlSize = 192

    // Element metadata offsets.
    private static let metaStride = 32
    private static let nextOffset = 0
    private static let hashOffset = 4
    private static let freeNextOffset = 8
    private static let referencedOffset = 12
    private static let linkedOffset = 16
    private static let lruPreviousOffset = 20
    private static let lruNextOffset = 24

    /// A chain link with this bit set is the end marker of the bucket in the low bits.
    static let nullsBit: UInt32 = 0x8000_0000
    /// No element (LRU list ends).
    private static let none = UInt32.max

    let memory: StableMemory
    let control: UnsafeMutableRawPointer
    let buckets: UnsafeMutableRawPointer
    let meta: UnsafeMutableRawPointer
    let keys: UnsafeMutableRawPointer
    let values: UnsafeMutableRawPointer
    let keySize: Int
    let keyStride: Int
    let valueSize: Int
    let valueStride: Int
    let capacity: Int
    let bucketCount: Int
    let bucketMask: UInt32
    let slotCount: Int
    let isLRU: Bool
    let slotSize: Int
    let slotKey: pthread_key_t

    var isPerThread: Bool { slotCount > 1 }
    var valuesSize: Int { slotSize * slotCount }

    private struct Offsets {
        var buckets = 0, meta = 0, keys = 0, values = 0, size = 0
    }

    private static func offsets(_ definition: MapDefinition, slotCount: Int) throws(MapError) -> Offsets {
        var layout = StorageLayout(mapName: definition.name)
        var offsets = Offsets()
        _ = try layout.append(controlSize)
        offsets.buckets = try layout.append(bucketCount(definition.maxEntries), stride: 8)
        offsets.meta = try layout.append(definition.maxEntries, stride: metaStride)
        offsets.keys = try layout.append(definition.maxEntries, stride: roundUp(definition.keySize, to: 8))
        offsets.values = try layout.append(definition.maxEntries * slotCount,
                                           stride: roundUp(definition.valueSize, to: 8))
        offsets.size = layout.size
        return offsets
    }

    private static func bucketCount(_ maxEntries: Int) -> Int {
        var count = 1
        while count < maxEntries { count <<= 1 }
        return count
    }

    /// Allocates the storage for `definition` and initialises the buckets and lists.
    init(_ definition: MapDefinition, slotCount: Int) throws(MapError) {
        let offsets = try Self.offsets(definition, slotCount: slotCount)
        memory = try StableMemory.allocate(offsets.size, mapName: definition.name)
        let memory = memory.base
        control = memory
        buckets = memory + offsets.buckets
        meta = memory + offsets.meta
        keys = memory + offsets.keys
        values = memory + offsets.values
        keySize = definition.keySize
        keyStride = roundUp(definition.keySize, to: 8)
        valueSize = definition.valueSize
        valueStride = roundUp(definition.valueSize, to: 8)
        capacity = definition.maxEntries
        bucketCount = Self.bucketCount(definition.maxEntries)
        bucketMask = UInt32(bucketCount - 1)
        self.slotCount = slotCount
        isLRU = definition.type == .lruHash
        slotSize = valueStride * capacity
        slotKey = ThreadSlots.shared.key
        for bucket in 0..<bucketCount {
            buckets.storeBytes(of: Self.nullsBit | UInt32(bucket), toByteOffset: bucket * 8, as: UInt32.self)
        }
        control.storeBytes(of: Self.none, toByteOffset: Self.lruHeadOffset, as: UInt32.self)
        control.storeBytes(of: Self.none, toByteOffset: Self.lruTailOffset, as: UInt32.self)
    }

    deinit { memory.release() }

    // MARK: - Addresses

    @inline(__always) private func head(_ bucket: Int) -> UnsafeMutableRawPointer { buckets + bucket &* 8 }
    @inline(__always) private func lock(_ bucket: Int) -> SpinLock { SpinLock(buckets + (bucket &* 8 &+ 4)) }
    @inline(__always) private func field(_ index: Int, _ offset: Int) -> UnsafeMutableRawPointer {
        meta + (index &* Self.metaStride &+ offset)
    }
    @inline(__always) private func next(_ index: Int) -> UnsafeAtomic<UInt32> { atomicWord(field(index, Self.nextOffset)) }
    @inline(__always) private func hash(_ index: Int) -> UnsafeAtomic<UInt32> { atomicWord(field(index, Self.hashOffset)) }
    @inline(__always) private func referenced(_ index: Int) -> UnsafeAtomic<UInt32> {
        atomicWord(field(index, Self.referencedOffset))
    }
    @inline(__always) private func linked(_ index: Int) -> UnsafeAtomic<UInt32> {
        atomicWord(field(index, Self.linkedOffset))
    }
    @inline(__always) func key(_ index: Int) -> UnsafeMutableRawPointer { keys + index &* keyStride }
    @inline(__always) func value(_ index: Int, slot: Int) -> UnsafeMutableRawPointer {
        values + (slot &* slotSize &+ index &* valueStride)
    }
    private var count: UnsafeAtomic<UInt64> { atomicDoubleWord(control + Self.countOffset) }
    private var lruLock: SpinLock { SpinLock(control + Self.lruLockOffset) }

    /// The number of keys present.
    var entryCount: Int { Int(truncatingIfNeeded: count.load(ordering: .relaxed)) }

    // MARK: - Lookup (lock-free)

    /// The element holding `key`, found without taking a lock.
    @inline(__always)
    private func find(_ key: UnsafeRawPointer, hash: UInt32) -> Int? {
        let bucket = Int(hash & bucketMask)
        let end = Self.nullsBit | UInt32(bucket)
        while true {
            var link = atomicWord(head(bucket)).load(ordering: .acquiring)
            var steps = 0
            while link & Self.nullsBit == 0 {
                let index = Int(link)
                if self.hash(index).load(ordering: .relaxed) == hash,
                   KeyHashing.equal(self.key(index), key, count: keySize) { return index }
                link = next(index).load(ordering: .acquiring)
                steps &+= 1
                if steps > capacity { break }  // wandered through reused elements: start over
            }
            if link == end { return nil }
        }
    }

    /// The value of `key` (the calling thread's copy for per-thread maps), or nil. Not inlined,
    /// so that the array path of `Map.lookup(key:)` stays small.
    @inline(never)
    func lookup(_ key: UnsafeRawPointer) -> UnsafeMutableRawPointer? {
        guard let index = find(key, hash: KeyHashing.hash(key, count: keySize)) else { return nil }
        if isLRU { markReferenced(index) }
        return value(index, slot: isPerThread ? ThreadSlots.current(key: slotKey) : 0)
    }

    /// The value of `key` in thread slot `slot`, or nil.
    func lookup(_ key: UnsafeRawPointer, slot: Int) -> UnsafeMutableRawPointer? {
        guard slot >= 0, slot < slotCount, let index = find(key, hash: KeyHashing.hash(key, count: keySize)) else {
            return nil
        }
        if isLRU { markReferenced(index) }
        return value(index, slot: slot)
    }

    @inline(__always)
    private func markReferenced(_ index: Int) {
        let bit = referenced(index)
        if bit.load(ordering: .relaxed) == 0 { bit.store(1, ordering: .relaxed) }
    }

    // MARK: - Locked chain operations

    /// The element holding `key` in `bucket` and the address of the link that points at it.
    /// The caller holds the bucket's lock.
    private func findLocked(_ key: UnsafeRawPointer, hash: UInt32, bucket: Int)
        -> (index: Int, link: UnsafeMutableRawPointer)?
    {
        var linkAddress = head(bucket)
        var link = atomicWord(linkAddress).load(ordering: .relaxed)
        while link & Self.nullsBit == 0 {
            let index = Int(link)
            if self.hash(index).load(ordering: .relaxed) == hash, KeyHashing.equal(self.key(index), key, count: keySize) {
                return (index, linkAddress)
            }
            linkAddress = field(index, Self.nextOffset)
            link = atomicWord(linkAddress).load(ordering: .relaxed)
        }
        return nil
    }

    /// The address of the link that points at `element` in `bucket`, if it is in that chain.
    private func predecessorLink(of element: Int, bucket: Int) -> UnsafeMutableRawPointer? {
        var linkAddress = head(bucket)
        var link = atomicWord(linkAddress).load(ordering: .relaxed)
        while link & Self.nullsBit == 0 {
            if Int(link) == element { return linkAddress }
            linkAddress = field(Int(link), Self.nextOffset)
            link = atomicWord(linkAddress).load(ordering: .relaxed)
        }
        return nil
    }

    /// Publishes a filled element at the front of `bucket` (lock held).
    private func link(_ index: Int, bucket: Int) {
        let headWord = atomicWord(head(bucket))
        next(index).store(headWord.load(ordering: .relaxed), ordering: .relaxed)
        linked(index).store(1, ordering: .relaxed)
        headWord.store(UInt32(index), ordering: .releasing)
        count.wrappingIncrement(ordering: .relaxed)
    }

    /// Removes an element from its chain (lock held). Its own link stays intact for readers
    /// still walking through it.
    private func unlink(_ index: Int, link: UnsafeMutableRawPointer) {
        atomicWord(link).store(next(index).load(ordering: .relaxed), ordering: .releasing)
        linked(index).store(0, ordering: .relaxed)
        count.wrappingDecrement(ordering: .relaxed)
    }

    private func fill(_ index: Int, key: UnsafeRawPointer, hash: UInt32, value: UnsafeRawPointer, write: ValueWrite) {
        self.key(index).copyMemory(from: key, byteCount: keySize)
        self.hash(index).store(hash, ordering: .relaxed)
        referenced(index).store(0, ordering: .relaxed)
        store(value, into: index, write: write, isNew: true)
    }

    private func store(_ source: UnsafeRawPointer, into index: Int, write: ValueWrite, isNew: Bool) {
        guard isPerThread else {
            value(index, slot: 0).copyMemory(from: source, byteCount: valueSize)
            return
        }
        switch write {
        case .currentThread:
            let current = ThreadSlots.current(key: slotKey)
            if isNew {
                for slot in 0..<slotCount where slot != current {
                    value(index, slot: slot).initializeMemory(as: UInt8.self, repeating: 0, count: valueSize)
                }
            }
            value(index, slot: current).copyMemory(from: source, byteCount: valueSize)
        case .everySlot:
            for slot in 0..<slotCount { value(index, slot: slot).copyMemory(from: source, byteCount: valueSize) }
        }
    }

    // MARK: - Update and delete

    /// The kernel's `htab_map_update_elem` / `htab_lru_map_update_elem`: bad flags `EINVAL`;
    /// `BPF_NOEXIST` on an existing key `EEXIST`; `BPF_EXIST` on a missing key `ENOENT`; a new
    /// key in a full map `E2BIG`, except in an LRU map, which evicts instead.
    func update(_ key: UnsafeRawPointer, _ value: UnsafeRawPointer, flags: UInt64,
                write: ValueWrite) throws(MapError.Reason) {
        let mode = try MapUpdateFlags.validated(flags)
        let hash = KeyHashing.hash(key, count: keySize)
        let bucket = Int(hash & bucketMask)
        let bucketLock = lock(bucket)
        bucketLock.lock()
        if let found = findLocked(key, hash: hash, bucket: bucket) {
            defer { bucketLock.unlock() }
            if mode == .noExist { throw .keyExists }
            store(value, into: found.index, write: write, isNew: false)
            if isLRU { markReferenced(found.index) }
            return
        }
        if mode == .exist {
            bucketLock.unlock()
            throw .noSuchKey
        }
        if !isLRU {
            defer { bucketLock.unlock() }
            guard let index = popFree() else { throw .full }
            fill(index, key: key, hash: hash, value: value, write: write)
            link(index, bucket: bucket)
            return
        }
        // LRU: find room (possibly evicting, which takes other bucket locks) without holding ours.
        bucketLock.unlock()
        guard let index = acquireLRUElement() else { throw .full }
        fill(index, key: key, hash: hash, value: value, write: write)
        bucketLock.lock()
        if let found = findLocked(key, hash: hash, bucket: bucket) {
            // Another thread inserted the key meanwhile.
            let replace = mode != .noExist
            if replace {
                store(value, into: found.index, write: write, isNew: false)
                markReferenced(found.index)
            }
            bucketLock.unlock()
            releaseLRUElement(index)
            if !replace { throw .keyExists }
            return
        }
        link(index, bucket: bucket)
        bucketLock.unlock()
    }

    /// The kernel's `htab_map_delete_elem`: a missing key is `ENOENT`. The element's memory is
    /// recycled for a later insert, never unmapped.
    func delete(_ key: UnsafeRawPointer) throws(MapError.Reason) {
        let hash = KeyHashing.hash(key, count: keySize)
        let bucket = Int(hash & bucketMask)
        let bucketLock = lock(bucket)
        bucketLock.lock()
        guard let found = findLocked(key, hash: hash, bucket: bucket) else {
            bucketLock.unlock()
            throw .noSuchKey
        }
        unlink(found.index, link: found.link)
        bucketLock.unlock()
        if isLRU {
            releaseLRUElement(found.index)
        } else {
            pushFree(found.index)
        }
    }

    // MARK: - Free elements

    /// Takes a free element: a recycled one, else one never used; nil when all are in use.
    private func popFree() -> Int? {
        let head = atomicDoubleWord(control + Self.freeHeadOffset)
        var old = head.load(ordering: .acquiring)
        while UInt32(truncatingIfNeeded: old) != 0 {
            let index = Int(UInt32(truncatingIfNeeded: old)) - 1
            let next = atomicWord(field(index, Self.freeNextOffset)).load(ordering: .relaxed)
            let new = ((old >> 32) &+ 1) << 32 | UInt64(next)
            let (exchanged, original) = head.weakCompareExchange(
                expected: old, desired: new, successOrdering: .acquiringAndReleasing, failureOrdering: .acquiring)
            if exchanged { return index }
            old = original
        }
        let fresh = atomicDoubleWord(control + Self.freshOffset)
        if fresh.load(ordering: .relaxed) >= UInt64(capacity) { return nil }
        let index = fresh.loadThenWrappingIncrement(ordering: .relaxed)
        return index < UInt64(capacity) ? Int(index) : nil
    }

    /// Returns an element to the free stack (tagged head: every push and pop bumps the tag).
    private func pushFree(_ index: Int) {
        let head = atomicDoubleWord(control + Self.freeHeadOffset)
        let next = atomicWord(field(index, Self.freeNextOffset))
        var old = head.load(ordering: .relaxed)
        while true {
            next.store(UInt32(truncatingIfNeeded: old), ordering: .relaxed)
            let new = ((old >> 32) &+ 1) << 32 | UInt64(index + 1)
            let (exchanged, original) = head.weakCompareExchange(
                expected: old, desired: new, successOrdering: .releasing, failureOrdering: .relaxed)
            if exchanged { return }
            old = original
        }
    }

    // MARK: - LRU list (under lruLock)

    private func lruLink(_ index: Int, _ offset: Int) -> UInt32 { field(index, offset).load(as: UInt32.self) }
    private func setLRULink(_ index: Int, _ offset: Int, _ value: UInt32) {
        field(index, offset).storeBytes(of: value, as: UInt32.self)
    }
    private var lruHead: UInt32 {
        get { control.load(fromByteOffset: Self.lruHeadOffset, as: UInt32.self) }
        set { control.storeBytes(of: newValue, toByteOffset: Self.lruHeadOffset, as: UInt32.self) }
    }
    private var lruTail: UInt32 {
        get { control.load(fromByteOffset: Self.lruTailOffset, as: UInt32.self) }
        set { control.storeBytes(of: newValue, toByteOffset: Self.lruTailOffset, as: UInt32.self) }
    }

    private func listPushFront(_ index: Int) {
        let oldHead = lruHead
        setLRULink(index, Self.lruPreviousOffset, Self.none)
        setLRULink(index, Self.lruNextOffset, oldHead)
        if oldHead != Self.none { setLRULink(Int(oldHead), Self.lruPreviousOffset, UInt32(index)) }
        else { lruTail = UInt32(index) }
        lruHead = UInt32(index)
    }

    private func listRemove(_ index: Int) {
        let previous = lruLink(index, Self.lruPreviousOffset)
        let next = lruLink(index, Self.lruNextOffset)
        if previous != Self.none { setLRULink(Int(previous), Self.lruNextOffset, next) } else { lruHead = next }
        if next != Self.none { setLRULink(Int(next), Self.lruPreviousOffset, previous) } else { lruTail = previous }
    }

    /// An element for a new LRU entry, already at the front of the list: a free one, or the
    /// evicted least recently used one.
    private func acquireLRUElement() -> Int? {
        let listLock = lruLock
        if let index = popFree() {
            listLock.withLock { listPushFront(index) }
            return index
        }
        return listLock.withLock { evictLocked() }
    }

    /// Takes an element off the LRU list and frees it.
    private func releaseLRUElement(_ index: Int) {
        lruLock.withLock { listRemove(index) }
        pushFree(index)
    }

    /// Second-chance eviction from the back of the list (list lock held): referenced elements
    /// lose their bit and move to the front; the first unreferenced element that is in a chain
    /// is unlinked, moved to the front and returned. Elements not in a chain are being
    /// inserted or deleted by another thread and are skipped.
    private func evictLocked() -> Int? {
        for _ in 0..<2 {
            var cursor = lruTail
            while cursor != Self.none {
                let index = Int(cursor)
                let previous = lruLink(index, Self.lruPreviousOffset)
                if referenced(index).load(ordering: .relaxed) != 0 {
                    referenced(index).store(0, ordering: .relaxed)
                    listRemove(index)
                    listPushFront(index)
                } else if linked(index).load(ordering: .relaxed) != 0 {
                    let bucket = Int(hash(index).load(ordering: .relaxed) & bucketMask)
                    let bucketLock = lock(bucket)
                    bucketLock.lock()
                    if let link = predecessorLink(of: index, bucket: bucket) {
                        unlink(index, link: link)
                        bucketLock.unlock()
                        listRemove(index)
                        listPushFront(index)
                        return index
                    }
                    bucketLock.unlock()
                }
                cursor = previous
            }
        }
        return nil
    }

    // MARK: - Host side

    /// Copies `key`'s value into `output` (`slot` nil: the calling thread's copy; the bucket lock
    /// keeps host updates from tearing it). False when the key is missing.
    func copyValue(_ key: UnsafeRawPointer, slot: Int?, into output: UnsafeMutableRawPointer) -> Bool {
        let hash = KeyHashing.hash(key, count: keySize)
        let bucket = Int(hash & bucketMask)
        return lock(bucket).withLock {
            guard let found = findLocked(key, hash: hash, bucket: bucket) else { return false }
            let chosen = slot ?? (isPerThread ? ThreadSlots.current(key: slotKey) : 0)
            output.copyMemory(from: value(found.index, slot: chosen), byteCount: valueSize)
            return true
        }
    }

    /// Every thread's copy of `key`'s value, slot by slot, or nil when the key is missing.
    func allValues(_ key: UnsafeRawPointer) -> [[UInt8]]? {
        let hash = KeyHashing.hash(key, count: keySize)
        let bucket = Int(hash & bucketMask)
        return lock(bucket).withLock {
            guard let found = findLocked(key, hash: hash, bucket: bucket) else { return nil }
            return (0..<slotCount).map { slot in
                Array(UnsafeRawBufferPointer(start: value(found.index, slot: slot), count: valueSize))
            }
        }
    }

    /// The kernel's `htab_map_get_next_key`: the key after `key` in bucket order; from the first
    /// key when `key` is nil or missing. False at the end.
    func nextKey(after key: UnsafeRawPointer?, into output: UnsafeMutableRawPointer) -> Bool {
        var start = 0
        if let key {
            let hash = KeyHashing.hash(key, count: keySize)
            let bucket = Int(hash & bucketMask)
            let copied: Bool? = lock(bucket).withLock {
                guard let found = findLocked(key, hash: hash, bucket: bucket) else { return nil }
                let next = next(found.index).load(ordering: .relaxed)
                guard next & Self.nullsBit == 0 else { return false }
                output.copyMemory(from: self.key(Int(next)), byteCount: keySize)
                return true
            }
            if copied == true { return true }
            if copied == false { start = bucket + 1 }
        }
        for bucket in start..<bucketCount {
            if atomicWord(head(bucket)).load(ordering: .acquiring) & Self.nullsBit != 0 { continue }
            let copied = lock(bucket).withLock {
                let first = atomicWord(head(bucket)).load(ordering: .relaxed)
                guard first & Self.nullsBit == 0 else { return false }
                output.copyMemory(from: self.key(Int(first)), byteCount: keySize)
                return true
            }
            if copied { return true }
        }
        return false
    }

    /// All keys, in iteration order (bucket by bucket).
    func allKeys() -> [[UInt8]] {
        var result: [[UInt8]] = []
        for bucket in 0..<bucketCount {
            if atomicWord(head(bucket)).load(ordering: .acquiring) & Self.nullsBit != 0 { continue }
            lock(bucket).withLock {
                var link = atomicWord(head(bucket)).load(ordering: .relaxed)
                while link & Self.nullsBit == 0 {
                    result.append(Array(UnsafeRawBufferPointer(start: key(Int(link)), count: keySize)))
                    link = next(Int(link)).load(ordering: .relaxed)
                }
            }
        }
        return result
    }
}
