/// A tristate number: what is known of each bit of a 64-bit value. A bit set in `mask` is
/// unknown; every other bit equals the bit of `value` (whose masked bits are kept 0).
///
/// The kernel's `tnum`; every operation over-approximates: the result contains every concrete
/// result of the operation on concrete members of the operands.
struct Tnum: Hashable, Sendable {
    var value: UInt64
    var mask: UInt64

    init(value: UInt64, mask: UInt64) {
        self.value = value & ~mask
        self.mask = mask
    }

    static func constant(_ value: UInt64) -> Tnum { Tnum(value: value, mask: 0) }
    static let unknown = Tnum(value: 0, mask: .max)

    /// The smallest tnum containing every value in `min...max` (unsigned).
    static func range(_ min: UInt64, _ max: UInt64) -> Tnum {
        let chi = min ^ max
        let bits = 64 - chi.leadingZeroBitCount
        if bits > 63 { return .unknown }
        let delta: UInt64 = (1 << UInt64(bits)) &- 1
        return Tnum(value: min & ~delta, mask: delta)
    }

    var isConstant: Bool { mask == 0 }
    /// The largest member.
    var maximum: UInt64 { value | mask }

    /// Whether `concrete` is a member.
    func contains(_ concrete: UInt64) -> Bool { concrete & ~mask == value }
    /// Whether every member of `other` is a member of this one.
    func contains(_ other: Tnum) -> Bool {
        if other.mask & ~mask != 0 { return false }
        return other.value & ~mask == value
    }

    static func + (a: Tnum, b: Tnum) -> Tnum {
        let sm = a.mask &+ b.mask, sv = a.value &+ b.value
        let sigma = sm &+ sv, chi = sigma ^ sv
        let mu = chi | a.mask | b.mask
        return Tnum(value: sv & ~mu, mask: mu)
    }

    static func - (a: Tnum, b: Tnum) -> Tnum {
        let dv = a.value &- b.value
        let alpha = dv &+ a.mask, beta = dv &- b.mask
        let chi = alpha ^ beta
        let mu = chi | a.mask | b.mask
        return Tnum(value: dv & ~mu, mask: mu)
    }

    static func & (a: Tnum, b: Tnum) -> Tnum {
        let alpha = a.value | a.mask, beta = b.value | b.mask
        let v = a.value & b.value
        return Tnum(value: v, mask: alpha & beta & ~v)
    }

    static func | (a: Tnum, b: Tnum) -> Tnum {
        let v = a.value | b.value
        return Tnum(value: v, mask: (a.mask | b.mask) & ~v)
    }

    static func ^ (a: Tnum, b: Tnum) -> Tnum {
        let mu = a.mask | b.mask
        return Tnum(value: (a.value ^ b.value) & ~mu, mask: mu)
    }

    static func * (a: Tnum, b: Tnum) -> Tnum {
        var a = a, b = b
        let product = a.value &* b.value
        var accumulated = Tnum.constant(0)
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                accumulated = accumulated + Tnum(value: 0, mask: b.mask)
            } else if a.mask & 1 != 0 {
                accumulated = accumulated + Tnum(value: 0, mask: b.value | b.mask)
            }
            a = a >> 1
            b = b << 1
        }
        return Tnum.constant(product) + accumulated
    }

    static func << (a: Tnum, shift: UInt64) -> Tnum {
        Tnum(value: a.value << shift, mask: a.mask << shift)
    }

    static func >> (a: Tnum, shift: UInt64) -> Tnum {
        Tnum(value: a.value >> shift, mask: a.mask >> shift)
    }

    /// Arithmetic shift right of the low `width` bits (32: the result is zero-extended).
    func arithmeticShiftRight(_ shift: UInt64, width: Int) -> Tnum {
        if width == 32 {
            let v = UInt32(bitPattern: Int32(truncatingIfNeeded: value) >> shift)
            let m = UInt32(bitPattern: Int32(truncatingIfNeeded: mask) >> shift)
            return Tnum(value: UInt64(v), mask: UInt64(m))
        }
        return Tnum(value: UInt64(bitPattern: Int64(bitPattern: value) >> shift),
                    mask: UInt64(bitPattern: Int64(bitPattern: mask) >> shift))
    }

    /// Members known to lie in both.
    func intersection(_ other: Tnum) -> Tnum {
        let v = value | other.value
        let mu = mask & other.mask
        return Tnum(value: v & ~mu, mask: mu)
    }

    /// The smallest tnum containing the members of both.
    func union(_ other: Tnum) -> Tnum {
        let mu = mask | other.mask | (value ^ other.value)
        return Tnum(value: value & ~mu, mask: mu)
    }

    /// The low `bytes` bytes, zero-extended.
    func truncated(toBytes bytes: Int) -> Tnum {
        if bytes >= 8 { return self }
        let keep: UInt64 = (1 << UInt64(bytes * 8)) - 1
        return Tnum(value: value & keep, mask: mask & keep)
    }

    /// The low 32 bits, zero-extended.
    var low32: Tnum { truncated(toBytes: 4) }

    /// These bits with the low 32 replaced by `low` (whose high bits are ignored).
    func replacingLow32(with low: Tnum) -> Tnum {
        let high = Tnum(value: value & 0xffff_ffff_0000_0000, mask: mask & 0xffff_ffff_0000_0000)
        return high | low.low32
    }

    /// Whether no concrete value is a member (value and mask disagree); never true for tnums
    /// built by the operations above.
    var isEmpty: Bool { value & mask != 0 }
}
