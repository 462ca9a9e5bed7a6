import Synchronization

/// The host's interface: keys and values as byte arrays whose lengths are checked, with the
/// semantics of the `bpf(2)` map commands.
extension Map {
    private func checkKey(_ key: [UInt8]) throws(MapError) {
        guard key.count == definition.keySize else {
            throw fail(.wrongKeySize(expected: definition.keySize, actual: key.count))
        }
    }

    private func checkValue(_ value: [UInt8]) throws(MapError) {
        guard value.count == definition.valueSize else {
            throw fail(.wrongValueSize(expected: definition.valueSize, actual: value.count))
        }
    }

    func checkHostWritable() throws(MapError) {
        if isFrozen { throw fail(.readOnly("the map is frozen: the host may no longer change it")) }
    }

    /// The value of `key` (this thread's copy for per-thread maps; the next element for queues
    /// and stacks, as `BPF_MAP_LOOKUP_ELEM` peeks; a stack trace's frames then zeros), or nil when
    /// absent, when the key has the wrong length, or for ring buffers, program arrays, perf event
    /// arrays, cgroup arrays and maps of maps (see ``program(at:)``, ``consumePerfEvents(_:)``,
    /// ``cgroup(at:)`` and ``innerMap(forKey:)``). As in the kernel, a host lookup does not count
    /// as a use of an LRU entry.
    public func lookup(_ key: [UInt8]) -> [UInt8]? {
        guard key.count == definition.keySize else { return nil }
        switch storage {
        case .array(let array):
            return key.withUnsafeBytes { key in
                array.lookup(key.baseAddress!).map { Array(UnsafeRawBufferPointer(start: $0, count: array.valueSize)) }
            }
        case .hash(let hash):
            var value = [UInt8](repeating: 0, count: definition.valueSize)
            let found = key.withUnsafeBytes { key in
                value.withUnsafeMutableBytes { hash.copyValue(key.baseAddress!, slot: nil, into: $0.baseAddress!) }
            }
            return found ? value : nil
        case .queue: return peek()
        case .stacks(let stacks): return stacks.value(Int(key.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }))
        case .ring, .programs, .maps, .perf, .cgroups: return nil
        }
    }

    /// Every thread's copy of `key`'s value, indexed by thread slot (one element for maps that
    /// are not per-thread), or nil when absent.
    public func lookupAll(_ key: [UInt8]) -> [[UInt8]]? {
        guard key.count == definition.keySize else { return nil }
        switch storage {
        case .array(let array):
            return key.withUnsafeBytes { key -> [[UInt8]]? in
                guard array.lookup(key.baseAddress!, slot: 0) != nil else { return nil }
                return (0..<array.slotCount).map { slot in
                    Array(UnsafeRawBufferPointer(start: array.lookup(key.baseAddress!, slot: slot)!, count: array.valueSize))
                }
            }
        case .hash(let hash):
            return key.withUnsafeBytes { hash.allValues($0.baseAddress!) }
        case .queue, .ring, .programs, .maps, .perf, .stacks, .cgroups:
            return lookup(key).map { [$0] }
        }
    }

    /// `BPF_MAP_UPDATE_ELEM`: sets `key` to `value` with `flags` (`BPF_ANY` 0, `BPF_NOEXIST` 1,
    /// `BPF_EXIST` 2). Per-thread maps get `value` in every thread's copy. Queues and stacks push
    /// (the key is empty). Program arrays take programs through ``setProgram(_:at:)``.
    public func update(_ key: [UInt8], _ value: [UInt8], flags: UInt64 = 0) throws(MapError) {
        try checkKey(key)
        try checkValue(value)
        try checkHostWritable()
        if case .queue = storage {
            try push(value, flags: flags)
            return
        }
        let failure = key.withUnsafeBytes { key in
            value.withUnsafeBytes { value in
                catching { () throws(MapError) in
                    try write(key: key.baseAddress!, value: value.baseAddress!, flags: flags, copies: .everySlot)
                }
            }
        }
        if let failure { throw failure }
    }

    /// ``update(_:_:flags:)`` with named flags.
    public func update(_ key: [UInt8], _ value: [UInt8], flags: MapUpdateFlags) throws(MapError) {
        try update(key, value, flags: flags.rawValue)
    }

    /// `BPF_MAP_DELETE_ELEM`: removes `key` (`-ENOENT` when absent, `-EINVAL` for arrays): an
    /// inner map, a stack trace, a cgroup.
    public func delete(_ key: [UInt8]) throws(MapError) {
        try checkKey(key)
        try checkHostWritable()
        let index = key.count == 4 ? key.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } : 0
        switch storage {
        case .queue: throw unsupported("delete", instead: "pop()")
        case .maps(let table):
            if let failure = key.withUnsafeBytes({ key -> MapError.Reason? in
                do throws(MapError.Reason) { try table.delete(key.baseAddress!) } catch { return error }
                return nil
            }) { throw fail(failure) }
            return
        case .stacks(let stacks):
            do throws(MapError.Reason) { try stacks.delete(Int(index)) } catch { throw fail(error) }
            return
        case .cgroups:
            try removeCgroup(at: index)
            return
        default:
            break
        }
        if let failure = key.withUnsafeBytes({ key in catching { () throws(MapError) in try delete(key: key.baseAddress!) } }) {
            throw failure
        }
    }

    /// `BPF_MAP_GET_NEXT_KEY`: the key after `key` in iteration order, the first key when `key`
    /// is nil or not in the map, nil at the end (and for a key of the wrong length). Arrays and
    /// program arrays iterate indices 0..<max_entries; hash maps bucket by bucket. Concurrent
    /// changes may make an iteration skip or repeat keys, as in the kernel.
    public func nextKey(after key: [UInt8]?) -> [UInt8]? {
        if let key, key.count != definition.keySize { return nil }
        switch storage {
        case .array, .programs, .perf, .cgroups:
            return nextIndex(after: key)
        case .maps(let table) where table.isArray:
            return nextIndex(after: key)
        case .maps(let table):
            var next = [UInt8](repeating: 0, count: definition.keySize)
            let found = next.withUnsafeMutableBytes { table.nextHashKey(after: key, into: $0.baseAddress!) }
            return found ? next : nil
        case .stacks(let stacks):
            let index = key.map { Int($0.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }) } ?? -1
            return stacks.ids.first { $0 > index }.map { Self.bytes(of: UInt32($0)) }
        case .hash(let hash):
            var next = [UInt8](repeating: 0, count: definition.keySize)
            let found = next.withUnsafeMutableBytes { output in
                if let key {
                    return key.withUnsafeBytes { hash.nextKey(after: $0.baseAddress!, into: output.baseAddress!) }
                }
                return hash.nextKey(after: nil, into: output.baseAddress!)
            }
            return found ? next : nil
        case .queue, .ring:
            return nil
        }
    }

    /// The index after `key` of a map keyed by index (every index below `max_entries`, as the
    /// kernel iterates arrays): the first when `key` is nil or out of range, nil at the end.
    private func nextIndex(after key: [UInt8]?) -> [UInt8]? {
        let index = key.map { $0.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }
        if let index, Int(index) < definition.maxEntries {
            return Int(index) + 1 < definition.maxEntries ? Self.bytes(of: index + 1) : nil
        }
        return Self.bytes(of: UInt32(0))
    }

    /// A snapshot of the keys, in ``nextKey(after:)`` order (every index for arrays, program
    /// arrays, arrays of maps, perf event and cgroup arrays; the ids holding a stack for stack
    /// traces; none for queues, stacks and ring buffers).
    public var keys: [[UInt8]] {
        switch storage {
        case .array, .programs, .perf, .cgroups: return (0..<definition.maxEntries).map { Self.bytes(of: UInt32($0)) }
        case .maps(let table) where table.isArray:
            return (0..<definition.maxEntries).map { Self.bytes(of: UInt32($0)) }
        case .maps(let table): return table.hashKeys
        case .hash(let hash): return hash.allKeys()
        case .stacks(let stacks): return stacks.ids.map { Self.bytes(of: UInt32($0)) }
        case .queue, .ring: return []
        }
    }

    /// The number of entries: keys present in a hash map, `max_entries` for arrays, elements in
    /// a queue or stack, programs in a program array, maps in a map of maps, cgroups in a cgroup
    /// array, stacks in a stack trace map, unconsumed bytes in a ring buffer, unconsumed records
    /// in a perf event array.
    public var count: Int {
        switch storage {
        case .array: return definition.maxEntries
        case .hash(let hash): return hash.entryCount
        case .queue(let queue): return queue.count
        case .ring(let ring): return Int(ring.query(0))
        case .programs: return programs!.occupiedIndices.count
        case .maps(let table): return table.count
        case .cgroups(let slots): return slots.occupiedIndices.count
        case .stacks(let stacks): return stacks.ids.count
        case .perf(let buffers): return buffers.pendingRecordCount
        }
    }

    /// Pushes onto a queue or stack (`flags` 0, or `BPF_EXIST` to overwrite the oldest when full).
    public func push(_ value: [UInt8], flags: UInt64 = 0) throws(MapError) {
        try checkValue(value)
        try checkHostWritable()
        if let failure = value.withUnsafeBytes({ value in
            catching { () throws(MapError) in try push(value: value.baseAddress!, flags: flags) }
        }) { throw failure }
    }

    /// Pops from a queue or stack; nil when empty or for other types.
    public func pop() -> [UInt8]? {
        guard case .queue = storage, !isFrozen else { return nil }
        var value = [UInt8](repeating: 0, count: definition.valueSize)
        let failure = value.withUnsafeMutableBytes { value in
            catching { () throws(MapError) in try pop(into: value.baseAddress!) }
        }
        return failure == nil ? value : nil
    }

    /// The element ``pop()`` would return, left in place; nil when empty or for other types.
    public func peek() -> [UInt8]? {
        guard case .queue = storage else { return nil }
        var value = [UInt8](repeating: 0, count: definition.valueSize)
        let failure = value.withUnsafeMutableBytes { value in
            catching { () throws(MapError) in try peek(into: value.baseAddress!) }
        }
        return failure == nil ? value : nil
    }

    // MARK: - Typed convenience

    /// The value of `key` read as `Value` (this thread's copy for per-thread maps); nil when
    /// absent or when the sizes do not match the definition.
    public func value<Key: BitwiseCopyable, Value: BitwiseCopyable>(forKey key: Key, as _: Value.Type = Value.self)
        -> Value?
    {
        guard MemoryLayout<Value>.size == definition.valueSize,
              let bytes = lookup(Self.bytes(of: key)) else { return nil }
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: Value.self) }
    }

    /// Every thread's copy of `key`'s value read as `Value` (see ``lookupAll(_:)``).
    public func allValues<Key: BitwiseCopyable, Value: BitwiseCopyable>(forKey key: Key, as _: Value.Type = Value.self)
        -> [Value]?
    {
        guard MemoryLayout<Value>.size == definition.valueSize,
              let copies = lookupAll(Self.bytes(of: key)) else { return nil }
        return copies.map { $0.withUnsafeBytes { $0.loadUnaligned(as: Value.self) } }
    }

    /// ``update(_:_:flags:)`` with the bytes of `key` and `value`.
    public func setValue<Key: BitwiseCopyable, Value: BitwiseCopyable>(_ value: Value, forKey key: Key,
                                                                      flags: UInt64 = 0) throws(MapError) {
        try update(Self.bytes(of: key), Self.bytes(of: value), flags: flags)
    }

    /// The error `body` throws, or nil (typed throws do not pass through `withUnsafeBytes`).
    func catching(_ body: () throws(MapError) -> Void) -> MapError? {
        do { try body() } catch { return error }
        return nil
    }

    static func bytes<T: BitwiseCopyable>(of value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    // MARK: - Freezing

    /// `BPF_MAP_FREEZE`: from now on the host can no longer change the map (updates, deletes,
    /// pushes and pops fail with `-EPERM`); programs are unaffected (use `BPF_F_RDONLY_PROG`).
    public func freeze() { frozenFlag.store(true, ordering: .releasing) }

    /// Whether ``freeze()`` was called.
    public var isFrozen: Bool { frozenFlag.load(ordering: .acquiring) }
}
