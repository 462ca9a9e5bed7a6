/// One 8-byte slot of a frame's stack: eight bytes each of a `StackByte` kind, and the register
/// spilled into its first bytes, if any. A spill is an 8-byte store of a register (whose whole
/// state a fill restores), or a 4-, 2- or 1-byte store of a number at the slot's start (the
/// kernel's sub-register spill), which keeps the number's bounds for a fill of the same bytes.
struct StackSlot: Hashable, Sendable {
    /// The kind of each byte, byte `i` (offset `slot + i`) in bits `8i..<8i+8`.
    private(set) var kinds: UInt64
    /// The register spilled here: its bytes (the first `spillSize`) are of kind `spill`.
    private(set) var spilled: Value?

    static let invalid = StackSlot(kinds: 0, spilled: nil)

    init(kinds: UInt64, spilled: Value?) {
        self.kinds = kinds
        self.spilled = spilled
    }

    /// An 8-byte spill of `value`.
    static func spill(_ value: Value) -> StackSlot {
        StackSlot(kinds: StackByte.spill.repeated, spilled: value)
    }

    /// `size` bytes of `number` stored at the slot's start: a spill of the number as those bytes
    /// hold it; the other bytes keep what they held (plain data if they were part of a spill).
    mutating func spill(_ number: Scalar, size: Int) {
        guard size < 8 else { self = .spill(.scalar(number)); return }
        if spilled != nil { dropSpill() }
        spilled = .scalar(number.truncated(toBytes: size))
        for byte in 0..<size { setKind(.spill, at: byte) }
    }

    /// How many bytes from the slot's start the spilled register occupies (0 without a spill).
    var spillSize: Int {
        guard spilled != nil else { return 0 }
        var size = 0
        while size < 8 && kind(at: size) == .spill { size += 1 }
        return size
    }

    func kind(at byte: Int) -> StackByte { StackByte(rawValue: UInt8(truncatingIfNeeded: kinds >> UInt64(8 * byte)))! }

    private mutating func setKind(_ kind: StackByte, at byte: Int) {
        let shift = UInt64(8 * byte)
        kinds = (kinds & ~(0xff << shift)) | (UInt64(kind.rawValue) << shift)
    }

    /// The spill's bytes become plain data.
    private mutating func dropSpill() {
        for byte in 0..<spillSize { setKind(.misc, at: byte) }
        spilled = nil
    }

    /// Marks `count` bytes from `byte` as `kind`; a spill partly overwritten stops being one
    /// (its other bytes become plain data).
    mutating func write(_ kind: StackByte, from byte: Int, count: Int) {
        if spilled != nil && byte < spillSize { dropSpill() }
        for index in byte..<(byte + count) { setKind(kind, at: index) }
    }

    /// Replaces the spilled register by `value` (for a sub-register spill, its bytes of it).
    mutating func replaceSpilled(with value: Value) {
        let size = spillSize
        guard size > 0 else { return }
        spilled = size == 8 || !value.isScalar ? value : .scalar(value.scalar.truncated(toBytes: size))
    }

    /// Whether `count` bytes from `byte` were all written.
    func isInitialized(from byte: Int, count: Int) -> Bool {
        var index = byte
        while index < byte + count {
            if kind(at: index) == .invalid { return false }
            index += 1
        }
        return true
    }

    /// Whether `count` bytes from `byte` all hold zero.
    func isZero(from byte: Int, count: Int) -> Bool {
        var index = byte
        while index < byte + count {
            switch kind(at: index) {
            case .zero: break
            case .spill where spilled?.isZero == true: break
            default: return false
            }
            index += 1
        }
        return true
    }

    /// What a fill of all eight bytes reads, when it is a number: the spilled scalar, 0 for
    /// zero bytes, any number for written bytes (the kernel's scalar_reg_for_stack).
    private var number: Scalar? {
        if let spilled { return spillSize == 8 && spilled.isScalar ? spilled.scalar : nil }
        if isZero(from: 0, count: 8) { return .constant(0) }
        return isInitialized(from: 0, count: 8) ? .unknown : nil
    }

    /// Whether a state holding `other` here is at least as general as one holding this. An
    /// imprecise number (one no decision depended on) stands for any number.
    func isSubsumed(by other: StackSlot, precise: Bool, ids: inout IDMap) -> Bool {
        // The same bytes (a spilled pointer's id still has to correspond).
        if self == other && spilled?.isScalar != false { return true }
        if let old = other.number {
            // Any number covers written bytes, spilled numbers among them.
            if old.isUnknown && isInitialized(from: 0, count: 8) && spilled?.isScalar != false { return true }
            if let current = number { return !precise || old.contains(current) }
        }
        if let old = other.spilled {
            guard let current = spilled, spillSize == other.spillSize,
                  old.isScalar && current.isScalar && !precise || current.isSubsumed(by: old, precise: true, ids: &ids)
            else { return false }
        }
        let spillBytes = other.spillSize
        for byte in spillBytes..<8 {
            let oldKind = other.kind(at: byte)
            if oldKind == .invalid { continue }
            let kind = self.kind(at: byte) == .spill
                ? (spilled!.isScalar ? (spilled!.isZero ? StackByte.zero : .misc) : .spill) : self.kind(at: byte)
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
