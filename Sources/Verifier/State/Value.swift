/// What a register or spilled stack slot holds, in the verifier's terms (the kernel's
/// `bpf_reg_state`): its type, and for pointers the object it points into with a fixed offset
/// plus a variable part (`scalar`, which for a scalar is the value itself).
struct Value: Hashable, Sendable {
    var type: ValueType
    /// A pointer's constant offset from the start of its object.
    var offset: Int64 = 0
    /// A scalar's value, or a pointer's variable offset.
    var scalar: Scalar = .constant(0)
    /// Shared by copies of one pointer: refining one (a NULL check, a packet range) refines all.
    var id: UInt32 = 0
    /// Whether the pointer may be NULL (`*_or_null`).
    var maybeNull: Bool = false
    /// Packet pointers: how many bytes past the pointer are proven inside the packet.
    var range: Int64 = 0
    /// The reference (a ring-buffer record) this pointer holds, 0 for none.
    var reference: UInt32 = 0

    static let uninitialized = Value(type: .notInitialized)
    static let unknownScalar = Value(type: .scalar, scalar: .unknown)
    static func scalar(_ scalar: Scalar) -> Value { Value(type: .scalar, scalar: scalar) }
    static func constant(_ value: UInt64) -> Value { Value(type: .scalar, scalar: .constant(value)) }
    static func pointer(_ kind: PointerKind, offset: Int64 = 0) -> Value {
        Value(type: .pointer(kind), offset: offset, scalar: .constant(0))
    }

    var isScalar: Bool { type == .scalar }
    var isInitialized: Bool { type != .notInitialized }
    var pointerKind: PointerKind? { if case .pointer(let kind) = type { kind } else { nil } }
    /// A scalar known to be 0 (also what a NULL pointer constant is).
    var isZero: Bool { isScalar && scalar.constantValue == 0 }

    /// Whether everything this value may be, `other` may be too, for the purpose of pruning:
    /// a state holding `other` is at least as general. `ids` maps this state's ids to the
    /// other's, which must correspond one to one.
    /// An imprecise number (`precise` false: no decision depended on it) is covered by any number.
    func isSubsumed(by other: Value, precise: Bool, ids: inout IDMap) -> Bool {
        switch (type, other.type) {
        case (_, .notInitialized):
            return true
        case (.scalar, .scalar):
            if !precise || other.scalar.isUnknown { return true }
            return other.scalar.contains(scalar) && ids.match(id, other.id)
        case (.pointer(let a), .pointer(let b)):
            guard a == b, offset == other.offset, other.scalar.contains(scalar) else { return false }
            if maybeNull && !other.maybeNull { return false }
            if maybeNull || a == .packet || a == .packetMeta {
                guard ids.match(id, other.id) else { return false }
            }
            if range < other.range { return false }
            guard (reference == 0) == (other.reference == 0), ids.match(reference, other.reference) else { return false }
            return true
        default:
            return false
        }
    }
}

/// A value's type: not initialised, a number, or a pointer of some kind.
enum ValueType: Hashable, Sendable {
    case notInitialized
    case scalar
    case pointer(PointerKind)
}

/// What a pointer points into.
enum PointerKind: Hashable, Sendable {
    /// The program's context (its layout comes from the program kind).
    case context
    /// The stack of frame `frame` (0 = the entry function), at `offset` from its frame pointer.
    case stack(frame: Int)
    /// A map itself (`lddw map`), which only helpers take.
    case map(Int)
    /// The value of map `map` (its value size).
    case mapValue(Int)
    /// Packet data, its end, and its metadata (xdp).
    case packet, packetEnd, packetMeta
    /// Memory a helper handed out: a ring-buffer record of `size` bytes.
    case memory(size: Int64)
    /// A host structure typed by BTF (a hook argument): readable field by field, never written.
    case host(typeID: UInt32)
    /// A BPF function of the program (a callback), by its first instruction.
    case function(Int)

    var isStack: Bool { if case .stack = self { true } else { false } }
}

/// A one-to-one correspondence between the ids of two states, built while comparing them.
struct IDMap {
    private var forward: [UInt32: UInt32] = [:]
    private var backward: [UInt32: UInt32] = [:]

    /// Whether `a` (of the current state) and `b` (of the old one) may stand for each other.
    mutating func match(_ a: UInt32, _ b: UInt32) -> Bool {
        if a == 0 && b == 0 { return true }
        if b == 0 { return true }  // the old state did not relate this value to anything
        if a == 0 { return false }
        if let known = forward[a] { return known == b }
        if let known = backward[b] { return known == a }
        forward[a] = b
        backward[b] = a
        return true
    }
}
