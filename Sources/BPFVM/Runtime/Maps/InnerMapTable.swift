import Synchronization

/// The storage of an array of maps or a hash of maps (`BPF_MAP_TYPE_ARRAY_OF_MAPS`,
/// `BPF_MAP_TYPE_HASH_OF_MAPS`): other maps, each accepted by the outer map's inner-map template.
///
/// A program's `map_lookup_elem` on the outer map returns the inner map's own pointer (what
/// `lddw` of a map loads), which it then passes to map helpers, as in the kernel. An array keeps
/// the pointers in lock-free slots; a hash keeps them as 8-byte values of a hash storage. Every map
/// ever stored stays alive as long as the outer map (a program may still hold a pointer read just
/// before a replacement), so replacing inner maps over and over keeps each of them.
final class InnerMapTable: @unchecked Sendable {
    let template: MapDefinition
    private let slots: ObjectSlots?
    private let hash: HashStorage?
    /// Every map stored in a hash of maps, kept alive (see above).
    private let retained = Mutex<[Map]>([])

    init(_ definition: MapDefinition) throws(MapError) {
        template = definition.innerMap!  // validated
        if definition.type == .arrayOfMaps {
            slots = ObjectSlots(capacity: definition.maxEntries)
            hash = nil
        } else {
            slots = nil
            hash = try HashStorage(MapDefinition(name: definition.name, type: .hash, keySize: definition.keySize,
                                                 valueSize: 8, maxEntries: definition.maxEntries), slotCount: 1)
        }
    }

    /// The inner map's pointer for `key`, or nil when there is none.
    @inline(__always)
    func lookup(_ key: UnsafeRawPointer) -> UnsafeMutableRawPointer? {
        if let slots {
            let index = Int(key.loadUnaligned(as: UInt32.self))
            guard index < slots.capacity else { return nil }
            return slots.pointer(at: index).map { UnsafeMutableRawPointer(mutating: $0) }
        }
        guard let value = hash.unsafelyUnwrapped.lookup(key) else { return nil }
        return UnsafeMutableRawPointer(bitPattern: value.load(as: UInt.self))
    }

    /// The inner map for `key`.
    func map(for key: UnsafeRawPointer) -> Map? {
        lookup(key).map { Map.fromOpaque($0) }
    }

    /// Stores `map` at `key` with the update `flags` (`BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`);
    /// `map` must fit the template.
    func set(_ map: Map, key: UnsafeRawPointer, flags: UInt64, outerName: String) throws(MapError.Reason) {
        guard template.accepts(map.definition) else {
            throw .invalidDefinition("map '\(map.definition.name)' (\(map.definition.type.name), key"
                + " \(map.definition.keySize)B, value \(map.definition.valueSize)B, max_entries"
                + " \(map.definition.maxEntries), flags 0x\(String(map.definition.flags, radix: 16))) does not fit"
                + " the inner map template of '\(outerName)' (\(template.type.name), key \(template.keySize)B, value"
                + " \(template.valueSize)B, max_entries \(template.maxEntries), flags"
                + " 0x\(String(template.flags, radix: 16)))")
        }
        if let slots {
            let mode = try MapUpdateFlags.validated(flags)
            let index = Int(key.loadUnaligned(as: UInt32.self))
            guard index < slots.capacity else { throw .indexOutOfRange(UInt64(index), maxEntries: slots.capacity) }
            if mode == .noExist { throw .keyExists }
            slots.set(map, at: index)
            return
        }
        retained.withLock { $0.append(map) }
        var pointer = UInt(bitPattern: map.opaquePointer)
        try hash.unsafelyUnwrapped.update(key, &pointer, flags: flags, write: .everySlot)
    }

    /// Removes the map at `key` (`-ENOENT` when there is none).
    func delete(_ key: UnsafeRawPointer) throws(MapError.Reason) {
        if let slots {
            let index = Int(key.loadUnaligned(as: UInt32.self))
            guard index < slots.capacity else { throw .indexOutOfRange(UInt64(index), maxEntries: slots.capacity) }
            if !slots.set(nil, at: index) { throw .noSuchKey }
            return
        }
        try hash.unsafelyUnwrapped.delete(key)
    }

    /// Whether this is an array of maps (keys are indices below `max_entries`).
    var isArray: Bool { slots != nil }

    /// The keys of a hash of maps.
    var hashKeys: [[UInt8]] { hash?.allKeys() ?? [] }

    /// The key after `key` in a hash of maps (the first when `key` is nil or absent).
    func nextHashKey(after key: [UInt8]?, into output: UnsafeMutableRawPointer) -> Bool {
        guard let hash else { return false }
        guard let key else { return hash.nextKey(after: nil, into: output) }
        return key.withUnsafeBytes { hash.nextKey(after: $0.baseAddress!, into: output) }
    }

    /// How many maps it holds.
    var count: Int { slots?.occupiedIndices.count ?? hash!.entryCount }
}
