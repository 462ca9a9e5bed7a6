/// What a map is: its name, type, key and value sizes, capacity and `map_flags`, as a BTF map
/// definition (`SEC(".maps")`) declares them.
///
/// A definition is plain data; ``Map/init(_:)`` checks it with the kernel's rules and throws a
/// ``MapError`` naming the offending field.
public struct MapDefinition: Hashable, Sendable {
    public var name: String
    public var type: MapType
    /// Key size in bytes: 4 for arrays and program arrays, 0 for queues, stacks and ring buffers.
    public var keySize: Int
    /// Value size in bytes: 4 for program arrays, 0 for ring buffers.
    public var valueSize: Int
    /// The capacity in entries; for a ring buffer, its data size in bytes.
    public var maxEntries: Int
    /// `map_flags` (`BPF_F_*`).
    public var flags: UInt32
    /// For an array or hash of maps: what every inner map must be (libbpf's `__array(values,
    /// struct inner)` template, named `OUTER.inner`); nil for other types.
    public var innerMap: MapDefinition? {
        get { innerTemplate.first }
        set { innerTemplate = newValue.map { [$0] } ?? [] }
    }
    /// The template behind `innerMap` (an array, so that a definition can hold one).
    private var innerTemplate: [MapDefinition] = []

    public init(name: String, type: MapType, keySize: Int, valueSize: Int, maxEntries: Int, flags: UInt32 = 0,
                innerMap: MapDefinition? = nil)
    {
        self.name = name
        self.type = type
        self.keySize = keySize
        self.valueSize = valueSize
        self.maxEntries = maxEntries
        self.flags = flags
        self.innerMap = innerMap
    }

    /// Whether `map` may be stored in an outer map of this template (the kernel's
    /// `bpf_map_meta_equal`): same type, key and value sizes and flags, and the same
    /// `max_entries` unless the template has `BPF_F_INNER_MAP`.
    public func accepts(_ map: MapDefinition) -> Bool {
        map.type == type && map.keySize == keySize && map.valueSize == valueSize && map.flags == flags
            && (flags & Self.innerMapFlag != 0 || map.maxEntries == maxEntries)
    }

    // MARK: - Flags (map_flags)

    /// `BPF_F_NO_PREALLOC`: accepted for hash maps, which this runtime preallocates anyway.
    public static let noPreallocate: UInt32 = 0x1
    /// `BPF_F_NO_COMMON_LRU`: accepted for LRU hash maps; they keep one list regardless.
    public static let noCommonLRU: UInt32 = 0x2
    /// `BPF_F_NUMA_NODE`: accepted and ignored.
    public static let numaNode: UInt32 = 0x4
    /// `BPF_F_RDONLY` (syscall side): not supported; use ``Map/freeze()``.
    public static let readOnly: UInt32 = 0x8
    /// `BPF_F_WRONLY` (syscall side): not supported.
    public static let writeOnly: UInt32 = 0x10
    /// `BPF_F_ZERO_SEED`: accepted for hash maps, whose hash is unseeded anyway.
    public static let zeroSeed: UInt32 = 0x40
    /// `BPF_F_RDONLY_PROG`: programs may only read values (set on `.rodata`).
    public static let readOnlyForPrograms: UInt32 = 0x80
    /// `BPF_F_WRONLY_PROG`: programs may only write values.
    public static let writeOnlyForPrograms: UInt32 = 0x100
    /// `BPF_F_MMAPABLE`: accepted for arrays, whose values never move anyway (set on global data).
    public static let mmapable: UInt32 = 0x400
    /// `BPF_F_PRESERVE_ELEMS`: accepted for perf event arrays, whose buffers live as long as the map.
    public static let preserveElements: UInt32 = 0x800
    /// `BPF_F_INNER_MAP`: on an array that is an inner-map template, inner maps may have any
    /// `max_entries`.
    public static let innerMapFlag: UInt32 = 0x1000
    /// `BPF_F_STACK_BUILD_ID`: stack traces as build ids and offsets; not supported.
    public static let stackBuildID: UInt32 = 0x20

    /// The `map_flags` bits the kernel accepts for this type and this runtime honours or ignores.
    var allowedFlags: UInt32 {
        let access = Self.readOnlyForPrograms | Self.writeOnlyForPrograms | Self.numaNode
        switch type {
        case .hash, .perThreadHash: return access | Self.noPreallocate | Self.zeroSeed
        case .lruHash: return access | Self.noCommonLRU | Self.zeroSeed
        case .array: return access | Self.mmapable | Self.innerMapFlag
        case .perThreadArray, .programArray, .queue, .stack, .cgroupArray, .arrayOfMaps: return access
        case .perfEventArray: return access | Self.preserveElements
        case .hashOfMaps: return access | Self.noPreallocate | Self.zeroSeed
        case .ringBuffer, .stackTrace: return Self.numaNode
        }
    }

    /// Checks the definition with the kernel's rules (`map_alloc_check` of each type).
    func validate() throws(MapError) {
        func invalid(_ text: String) -> MapError { MapError(mapName: name, reason: .invalidDefinition(text)) }
        func tooLarge(_ text: String) -> MapError { MapError(mapName: name, reason: .tooLarge(text)) }
        let typeName = type.name
        if type == .stackTrace && flags & Self.stackBuildID != 0 {
            throw invalid("BPF_F_STACK_BUILD_ID is not supported: stack traces hold instruction addresses")
        }
        if flags & ~allowedFlags != 0 {
            throw invalid("map_flags 0x\(String(flags & ~allowedFlags, radix: 16)) not supported for \(typeName)"
                + " (allowed: 0x\(String(allowedFlags, radix: 16)))")
        }
        if flags & Self.readOnlyForPrograms != 0 && flags & Self.writeOnlyForPrograms != 0 {
            throw invalid("BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are mutually exclusive")
        }
        guard maxEntries > 0 else { throw invalid("max_entries must be positive (is \(maxEntries))") }
        switch type {
        case .hash, .perThreadHash, .lruHash:
            guard keySize > 0 else { throw invalid("key_size must be positive for \(typeName)") }
            guard keySize <= Self.maximumKeySize else {
                throw tooLarge("key_size \(keySize) exceeds \(Self.maximumKeySize) (keys live on the BPF stack)")
            }
            guard valueSize > 0 else { throw invalid("value_size must be positive for \(typeName)") }
            guard maxEntries <= Self.maximumHashEntries else {
                throw tooLarge("max_entries \(maxEntries) exceeds \(Self.maximumHashEntries) for \(typeName)"
                    + " (its buckets are set up when the map is created)")
            }
        case .array, .perThreadArray:
            guard keySize == 4 else { throw invalid("key_size must be 4 for \(typeName) (is \(keySize))") }
            guard valueSize > 0 else { throw invalid("value_size must be positive for \(typeName)") }
            guard maxEntries <= Int(UInt32.max) else {
                throw tooLarge("max_entries \(maxEntries) exceeds the 32-bit index range")
            }
        case .programArray, .arrayOfMaps, .perfEventArray, .cgroupArray:
            guard keySize == 4, valueSize == 4 else {
                throw invalid("key_size and value_size must be 4 for \(typeName) (are \(keySize) and \(valueSize))")
            }
            guard maxEntries <= Self.maximumProgramArrayEntries else {
                throw tooLarge("max_entries \(maxEntries) exceeds \(Self.maximumProgramArrayEntries) for \(typeName)"
                    + " (its slots are set up when the map is created)")
            }
            if type == .arrayOfMaps { try validateInnerMap() }
        case .hashOfMaps:
            guard keySize > 0 else { throw invalid("key_size must be positive for \(typeName)") }
            guard keySize <= Self.maximumKeySize else {
                throw tooLarge("key_size \(keySize) exceeds \(Self.maximumKeySize) (keys live on the BPF stack)")
            }
            guard valueSize == 4 else { throw invalid("value_size must be 4 for \(typeName) (is \(valueSize))") }
            guard maxEntries <= Self.maximumHashEntries else {
                throw tooLarge("max_entries \(maxEntries) exceeds \(Self.maximumHashEntries) for \(typeName)")
            }
            try validateInnerMap()
        case .stackTrace:
            guard keySize == 4 else { throw invalid("key_size must be 4 for stack_trace (is \(keySize))") }
            guard valueSize >= 8, valueSize % 8 == 0, valueSize / 8 <= Self.maximumStackDepth else {
                throw invalid("value_size must be a multiple of 8 from 8 to \(8 * Self.maximumStackDepth) for"
                    + " stack_trace (one u64 per frame, at most \(Self.maximumStackDepth) frames; is \(valueSize))")
            }
            guard maxEntries <= Self.maximumStackTraceEntries else {
                throw tooLarge("max_entries \(maxEntries) exceeds \(Self.maximumStackTraceEntries) for stack_trace")
            }
        case .queue, .stack:
            guard keySize == 0 else { throw invalid("key_size must be 0 for \(typeName) (is \(keySize))") }
            guard valueSize > 0 else { throw invalid("value_size must be positive for \(typeName)") }
        case .ringBuffer:
            guard keySize == 0, valueSize == 0 else {
                throw invalid("key_size and value_size must be 0 for ringbuf (are \(keySize) and \(valueSize))")
            }
            let page = StableMemory.pageSize
            guard maxEntries & (maxEntries - 1) == 0, maxEntries % page == 0 else {
                throw invalid("ringbuf max_entries (the data size, \(maxEntries)) must be a power of 2"
                    + " and a multiple of the page size \(page)")
            }
            guard maxEntries <= Self.maximumRingBufferSize else {
                throw tooLarge("ringbuf size \(maxEntries) exceeds \(Self.maximumRingBufferSize)")
            }
        }
        let valueLimit = type.isPerThread ? Self.maximumPerThreadValueSize : Self.maximumValueSize
        guard valueSize <= valueLimit else {
            throw tooLarge("value_size \(valueSize) exceeds \(valueLimit) for \(typeName)")
        }
    }

    /// Checks the inner-map template of an array or hash of maps.
    private func validateInnerMap() throws(MapError) {
        guard let innerMap else {
            throw MapError(mapName: name, reason: .invalidDefinition("\(type.name) needs an inner map template:"
                + " declare __array(values, struct { ... }) in its definition"))
        }
        guard !innerMap.type.holdsMaps else {
            throw MapError(mapName: name, reason: .invalidDefinition("an inner map cannot itself hold maps"))
        }
        try innerMap.validate()
    }

    // MARK: - Limits
    //
    // Every map reserves its whole storage when it is created. Values, keys and elements are address space
    // that the kernel commits only when touched (at most 1 TiB per map, `StorageLayout.maximumSize`), but a
    // hash map's buckets and a program array's slots are written at creation: their capacities are limited so
    // that no definition makes creation itself take gigabytes or seconds, and an object's maps together may
    // write at most ``maximumObjectCreationBytes`` (checked by `Object`). Real programs stay far below every
    // limit; a definition past one fails with `E2BIG` (``MapError/Reason/tooLarge(_:)``) naming the field.

    /// The largest key (the kernel's `MAX_BPF_STACK`).
    public static let maximumKeySize = 512
    /// The largest value (the kernel's `KMALLOC_MAX_SIZE` on x86-64); global-data sections too.
    public static let maximumValueSize = 1 << 22
    /// The largest per-thread value (the kernel's `PCPU_MIN_UNIT_SIZE`).
    public static let maximumPerThreadValueSize = 32_768
    /// The largest hash, per-thread hash or LRU hash capacity: 16M entries (the kernel's bucket table stops
    /// at 2^27). Creation initialises `max_entries` rounded up to a power of two buckets of 8 bytes, at most
    /// 128 MiB.
    public static let maximumHashEntries = 1 << 24
    /// The largest program array: 1M slots (tail-call tables hold a few hundred programs at most). Creation
    /// sets up 16 bytes per slot, at most 16 MiB.
    public static let maximumProgramArrayEntries = 1 << 20
    /// The largest ring buffer.
    public static let maximumRingBufferSize = 1 << 30
    /// The most frames a stack trace holds (the kernel's default `perf_event_max_stack`).
    public static let maximumStackDepth = 127
    /// The largest stack trace map: 1M ids (its buckets are reserved, and committed only as
    /// stacks are stored).
    public static let maximumStackTraceEntries = 1 << 20
    /// The most memory the maps of one object may write when they are created (their ``creationBytes``
    /// together): 1 GiB, eight hash maps of the largest capacity.
    public static let maximumObjectCreationBytes = 1 << 30

    /// The bytes creating a map of this definition writes, and so commits, at once: a hash map's buckets (8 bytes
    /// for each of `max_entries` rounded up to a power of two) and a program array's slots (16 bytes each); 0 for
    /// other types, whose memory is committed only as values are written, and for a capacity past its type's
    /// limit, which creation refuses anyway.
    public var creationBytes: Int {
        switch type {
        case .hash, .perThreadHash, .lruHash:
            guard maxEntries > 0, maxEntries <= Self.maximumHashEntries else { return 0 }
            var buckets = 1
            while buckets < maxEntries { buckets <<= 1 }
            return buckets * 8
        case .hashOfMaps:
            return MapDefinition(name: name, type: .hash, keySize: keySize, valueSize: 8, maxEntries: maxEntries)
                .creationBytes
        case .programArray, .arrayOfMaps, .perfEventArray, .cgroupArray:
            guard maxEntries > 0, maxEntries <= Self.maximumProgramArrayEntries else { return 0 }
            return maxEntries * 16
        case .array, .perThreadArray, .queue, .stack, .ringBuffer, .stackTrace:
            return 0
        }
    }
}
