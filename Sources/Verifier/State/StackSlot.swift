/// One 8-byte slot of a frame's stack: either a spilled register (an 8-byte store of a
/// register, whose whole state a fill restores) or eight bytes each of a `StackByte` kind.
struct StackSlot: Hashable, Sendable {
    /// The kind of each byte, byte `i` (offset `slot + i`) in bits `8i..<8i+8`.
    private(set) var kinds: UInt64
    /// The register spilled here, when all eight bytes hold it.
    private(set) var spilled: Value?

    static let invalid = StackSlot(kinds: 0, spilled: nil)

    init(kinds: UInt64, spilled: Value?) {
        self.kinds = kinds
        self.spilled = spilled
    }

    static func spill(_ value: Value) -> StackSlot {
        StackSlot(kinds: StackByte.spill.repeated, spilled: value)
    }

    func kind(at byte: Int) -> StackByte { StackByte(rawValue: UInt8(truncatingIfNeeded: kinds >> UInt64(8 * byte)))! }

    /// Marks `count` bytes from `byte` as `kind`; a spill partly overwritten stops being one
    /// (its other bytes become plain data).
    mutating func write(_ kind: StackByte, from byte: Int, count: Int) {
        if spilled != nil {
            spilled = nil
            kinds = StackByte.misc.repeated
        }
        for index in byte..<(byte + count) {
            let shift = UInt64(8 * index)
            kinds = (kinds & ~(0xff << shift)) | (UInt64(kind.rawValue) << shift)
        }
    }

    /// Whether `count` bytes from `byte` were all written.
    func isInitialized(from byte: Int, count: Int) -> Bool {
        (byte..<(byte + count)).allSatisfy { kind(at: $0) != .invalid }
    }

    /// Whether `count` bytes from `byte` all hold zero.
    func isZero(from byte: Int, count: Int) -> Bool {
        if let spilled { return spilled.isZero }
        return (byte..<(byte + count)).allSatisfy { kind(at: $0) == .zero }
    }

    /// Whether a state holding `other` here is at least as general as one holding this.
    func isSubsumed(by other: StackSlot, ids: inout IDMap) -> Bool {
        if let old = other.spilled {
            guard let current = spilled else {
                // An old spilled unknown scalar covers any data bytes (all written).
                return old.isScalar && old.scalar.isUnknown && isInitialized(from: 0, count: 8)
            }
            return current.isSubsumed(by: old, ids: &ids)
        }
        for byte in 0..<8 {
            let oldKind = other.kind(at: byte)
            if oldKind == .invalid { continue }
            let kind = spilled.map { $0.isScalar ? ($0.isZero ? StackByte.zero : .misc) : .spill } ?? self.kind(at: byte)
            switch (kind, oldKind) {
            case (.zero, .zero), (.zero, .misc), (.misc, .misc): continue
            default: return false
            }
        }
        return true
    }

    /// The slot as the kernel's log prints it: eight kind characters, fp-1's first.
    var logText: String {
        String((0..<8).reversed().map { kind(at: $0).character })
    }
}

/// What one stack byte holds (the kernel's `STACK_*`).
enum StackByte: UInt8, Sendable {
    case invalid = 0, misc, zero, spill

    var repeated: UInt64 { UInt64(rawValue) &* 0x0101_0101_0101_0101 }

    var character: Character {
        switch self {
        case .invalid: "?"
        case .misc: "m"
        case .zero: "0"
        case .spill: "r"
        }
    }
}
