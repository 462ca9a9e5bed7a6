/// Where a value came from, as checked mode tracks it for every register and every spilled
/// stack slot: a plain number, or a pointer derived from exactly one object.
///
/// A load or store is allowed only inside the object its base register's provenance names, so
/// a pointer into one map value can never reach the neighbouring value, the ring buffer's
/// record headers, or a frame it was not passed. One 64-bit word: the kind in bits 60-63, an
/// index in bits 48-59 (which map, which given region, which frame), and in bits 0-47 the
/// object's first address where the kind needs one (user-space addresses fit in 47 bits).
struct Provenance: Equatable {
    var raw: UInt64

    /// The kinds of object a value can be derived from.
    enum Kind: UInt64 {
        /// A number: it may not be dereferenced.
        case scalar = 0
        /// A BPF stack frame; the index is its call depth, the base its lowest address.
        case stack = 1
        /// Memory the caller of the run listed (the context, a packet, a test run's buffers);
        /// the index is its position in the run's region list.
        case given = 2
        /// One value of a map (exactly its value size); the index is the map's position in the
        /// object's map table, the base the value's first byte.
        case mapValue = 3
        /// One ring buffer record reserved by this run (exactly its reserved size, never its
        /// header); the base is the record's first byte.
        case ringRecord = 4
        /// A map itself (`lddw` of a map): passed to helpers, never dereferenced.
        case map = 5
        /// A BPF function's code address (`lddw` of a function): a callback, never dereferenced.
        case code = 6
    }

    static let scalar = Provenance(raw: 0)

    init(raw: UInt64) { self.raw = raw }

    init(_ kind: Kind, index: Int = 0, base: UInt = 0) {
        raw = kind.rawValue << 60 | UInt64(index & 0xfff) << 48 | UInt64(base) & 0xffff_ffff_ffff
    }

    @inline(__always) var kind: Kind { Kind(rawValue: raw >> 60).unsafelyUnwrapped }
    @inline(__always) var index: Int { Int(truncatingIfNeeded: raw >> 48) & 0xfff }
    @inline(__always) var base: UInt { UInt(truncatingIfNeeded: raw & 0xffff_ffff_ffff) }

    /// Whether pointer arithmetic keeps the provenance (memory objects); maps and code
    /// addresses become plain numbers when anything is added to them.
    @inline(__always) var isMemory: Bool { raw >> 60 != 0 && raw >> 60 <= Kind.ringRecord.rawValue }
}

/// The most maps an object may have for checked runs (the index field of a provenance).
let maximumTrackedMaps = 4096
