import BPFVM

/// What the verifier knows of a 64-bit scalar: its bits (a tnum) and its signed and unsigned
/// bounds, both as 64-bit values and for the low 32 bits (which ALU32 and JMP32 work on), kept
/// consistent with each other as the kernel's `reg_bounds_sync` keeps them.
///
/// Every operation over-approximates the interpreter's semantics: the result contains each
/// concrete result of the operation on concrete members of its operands.
struct Scalar: Hashable, Sendable {
    var tnum: Tnum
    var b64: Bounds64
    var b32: Bounds32

    static let unknown = Scalar(tnum: .unknown, b64: .unbounded, b32: .unbounded)

    static func constant(_ value: UInt64) -> Scalar {
        Scalar(tnum: .constant(value), b64: .constant(value), b32: .constant(UInt32(truncatingIfNeeded: value)))
    }

    /// Any value in `min...max` (unsigned).
    static func range(_ min: UInt64, _ max: UInt64) -> Scalar {
        var scalar = Scalar(tnum: .range(min, max), b64: .unsigned(min, max), b32: .unbounded)
        scalar.synchronize()
        return scalar
    }

    /// Any value of `bytes` bytes, zero-extended.
    static func unsigned(bytes: Int) -> Scalar {
        bytes >= 8 ? .unknown : .range(0, (1 << UInt64(bytes * 8)) - 1)
    }

    /// Any value of `bytes` bytes, sign-extended to 64 bits.
    static func signed(bytes: Int) -> Scalar {
        if bytes >= 8 { return .unknown }
        let half = Int64(1) << Int64(bytes * 8 - 1)
        var scalar = Scalar(tnum: .unknown, b64: .signed(-half, half - 1), b32: .unbounded)
        scalar.synchronize()
        return scalar
    }

    var constantValue: UInt64? { tnum.isConstant ? tnum.value : nil }
    var isConstant: Bool { tnum.isConstant }
    var isUnknown: Bool { self == .unknown }
    /// The value at `width`, if known.
    func constantValue(width: OperandWidth) -> UInt64? {
        width == .bits64 ? constantValue : (tnum.low32.isConstant ? tnum.low32.value : nil)
    }

    /// Whether the state describes no value at all (contradictory facts).
    var isEmpty: Bool {
        b64.isEmpty || b32.isEmpty || tnum.isEmpty
            || b64.umin > tnum.maximum || b64.umax < tnum.value
    }

    func contains(_ other: Scalar) -> Bool {
        b64.contains(other.b64) && b32.contains(other.b32) && tnum.contains(other.tnum)
    }

    func contains(value: UInt64) -> Bool {
        tnum.contains(value) && b64.contains(value: value) && b32.contains(value: UInt32(truncatingIfNeeded: value))
    }

    func union(_ other: Scalar) -> Scalar {
        Scalar(tnum: tnum.union(other.tnum), b64: b64.union(other.b64), b32: b32.union(other.b32))
    }

    // MARK: - Keeping the facts consistent

    /// Makes bits, 64-bit and 32-bit bounds agree (the kernel's `reg_bounds_sync`).
    mutating func synchronize() {
        for _ in 0..<2 {
            b32.tighten(with: tnum.low32)
            b64.tighten(with: tnum)
            deduceBounds()
            let low = tnum.low32.intersection(.range(UInt64(b32.umin), UInt64(b32.umax)))
            tnum = tnum.intersection(.range(b64.umin, b64.umax)).replacingLow32(with: low)
            b32.tighten(with: tnum.low32)
            b64.tighten(with: tnum)
        }
    }

    private mutating func deduceBounds() {
        b32.deduceAcrossSigns()
        // The low 32 bits from the 64-bit intervals, where the upper halves agree.
        if b64.umin >> 32 == b64.umax >> 32 {
            b32 = b32.intersection(Bounds32(
                smin: .min, smax: .max,
                umin: UInt32(truncatingIfNeeded: b64.umin), umax: UInt32(truncatingIfNeeded: b64.umax)))
            if Int32(truncatingIfNeeded: b64.umin) <= Int32(truncatingIfNeeded: b64.umax) {
                b32.smin = max(b32.smin, Int32(truncatingIfNeeded: b64.umin))
                b32.smax = min(b32.smax, Int32(truncatingIfNeeded: b64.umax))
            }
        }
        if b64.smin >= Int64(Int32.min) && b64.smax <= Int64(Int32.max) {
            // The value is its own low 32 bits sign-extended.
            b32.smin = max(b32.smin, Int32(truncatingIfNeeded: b64.smin))
            b32.smax = min(b32.smax, Int32(truncatingIfNeeded: b64.smax))
        }
        if b64.smin >> 32 == b64.smax >> 32 {
            // Same upper half: the low halves run from smin's to smax's without wrapping.
            if Int32(truncatingIfNeeded: b64.smin) <= Int32(truncatingIfNeeded: b64.smax) {
                b32.smin = max(b32.smin, Int32(truncatingIfNeeded: b64.smin))
                b32.smax = min(b32.smax, Int32(truncatingIfNeeded: b64.smax))
            }
            if UInt32(truncatingIfNeeded: b64.smin) <= UInt32(truncatingIfNeeded: b64.smax) {
                b32.umin = max(b32.umin, UInt32(truncatingIfNeeded: b64.smin))
                b32.umax = min(b32.umax, UInt32(truncatingIfNeeded: b64.smax))
            }
        }
        b32.deduceAcrossSigns()
        b64.deduceAcrossSigns()
        // The 64-bit intervals from the low 32 bits: a value keeps its upper half and has its
        // low half within the 32-bit bounds.
        let highMask: UInt64 = 0xffff_ffff_0000_0000
        b64.umin = max(b64.umin, (b64.umin & highMask) | UInt64(b32.umin))
        b64.umax = min(b64.umax, (b64.umax & highMask) | UInt64(b32.umax))
        b64.smin = max(b64.smin, Int64(bitPattern: (UInt64(bitPattern: b64.smin) & highMask) | UInt64(b32.umin)))
        b64.smax = min(b64.smax, Int64(bitPattern: (UInt64(bitPattern: b64.smax) & highMask) | UInt64(b32.umax)))
        b64.deduceAcrossSigns()
    }

    /// The value zero-extended from its low 32 bits (the result of every ALU32 operation).
    var zeroExtended32: Scalar {
        var result = Scalar(tnum: tnum.low32,
                            b64: Bounds64(smin: Int64(b32.umin), smax: Int64(b32.umax),
                                          umin: UInt64(b32.umin), umax: UInt64(b32.umax)),
                            b32: b32)
        result.synchronize()
        return result
    }

    /// A result whose facts contradict each other is a transfer-function bug; the sound answer
    /// then is to know nothing.
    private func checked(_ width: OperandWidth) -> Scalar {
        var result = self
        result.synchronize()
        if result.isEmpty { return width == .bits64 ? .unknown : Scalar.unknown.zeroExtended32 }
        return result
    }

    // MARK: - ALU

    /// `self OP other` at `width`, as `ALUOperation.apply` computes it on every pair of members.
    func applying(_ op: ALUOperation, _ other: Scalar, width: OperandWidth) -> Scalar {
        if let a = constantValue(width: width), let b = other.constantValue(width: width) {
            return .constant(op.apply(a, b, width: width))
        }
        if width == .bits32 {
            var result = Scalar(tnum: .unknown, b64: .unbounded, b32: Self.bounds32(op, self, other))
            result.tnum = Self.bits(op, tnum.low32, other.tnum.low32, width: 32).low32
            return result.checked(.bits32).zeroExtended32
        }
        var result = Scalar(tnum: Self.bits(op, tnum, other.tnum, width: 64), b64: .unbounded, b32: .unbounded)
        switch op {
        case .add: result.b64 = b64 + other.b64
        case .sub: result.b64 = b64 - other.b64
        case .mul: result.b64 = b64 * other.b64
        case .and: result.b64 = .and(b64, other.b64, bits: result.tnum)
        case .or: result.b64 = .or(b64, other.b64, bits: result.tnum)
        case .xor: result.b64 = .xor(b64, other.b64, bits: result.tnum)
        case .mov: return other
        case .lsh:
            if let shift = other.constantValue, shift < 64 { result.b64 = b64.shiftedLeft(Int(shift)) }
        case .rsh:
            if let shift = other.constantValue, shift < 64 { result.b64 = b64.shiftedRight(Int(shift)) }
        case .arsh:
            if let shift = other.constantValue, shift < 64 { result.b64 = b64.arithmeticShiftedRight(Int(shift)) }
        case .div:
            if let divisor = other.constantValue { result.b64 = b64.divided(by: divisor) }
            else { result.b64 = .unsigned(0, b64.umax) }
        case .mod:
            if let divisor = other.constantValue { result.b64 = b64.remainder(dividingBy: divisor) }
            else { result.b64 = .unsigned(0, other.b64.umin > 0 ? min(b64.umax, other.b64.umax - 1) : b64.umax) }
        case .sdiv, .smod:
            break
        }
        // The low 32 bits of these results depend only on the operands' low 32 bits.
        switch op {
        case .add, .sub, .mul, .and, .or, .xor: result.b32 = Self.bounds32(op, self, other)
        case .lsh where (other.constantValue ?? 64) < 32: result.b32 = Self.bounds32(op, self, other)
        default: break
        }
        return result.checked(.bits64)
    }

    /// The bounds of the low 32 bits of `a OP b` computed at 32 bits.
    private static func bounds32(_ op: ALUOperation, _ a: Scalar, _ b: Scalar) -> Bounds32 {
        let x = a.b32, y = b.b32
        let shift = b.tnum.low32.isConstant ? Int(b.tnum.low32.value) : nil
        let bits = Self.bits(op, a.tnum.low32, b.tnum.low32, width: 32)
        switch op {
        case .add: return x + y
        case .sub: return x - y
        case .mul: return x * y
        case .and: return .and(x, y, bits: bits)
        case .or: return .or(x, y, bits: bits)
        case .xor: return .xor(x, y, bits: bits)
        case .mov: return y
        case .lsh: if let shift, shift < 32 { return x.shiftedLeft(shift) }
        case .rsh: if let shift, shift < 32 { return x.shiftedRight(shift) }
        case .arsh: if let shift, shift < 32 { return x.arithmeticShiftedRight(shift) }
        case .div:
            if let divisor = y.constantValue { return x.divided(by: divisor) }
            return .unsigned(0, x.umax)
        case .mod:
            if let divisor = y.constantValue { return x.remainder(dividingBy: divisor) }
            return .unsigned(0, y.umin > 0 ? min(x.umax, y.umax - 1) : x.umax)
        case .sdiv, .smod: break
        }
        return .unbounded
    }

    /// The known bits of `a OP b` at `width` (32: operands and result are the low 32 bits).
    private static func bits(_ op: ALUOperation, _ a: Tnum, _ b: Tnum, width: Int) -> Tnum {
        let all: Tnum = width == 32 ? Tnum(value: 0, mask: 0xffff_ffff) : .unknown
        switch op {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .and: return a & b
        case .or: return a | b
        case .xor: return a ^ b
        case .mov: return b
        case .lsh, .rsh, .arsh:
            guard b.isConstant, b.value < UInt64(width) else { return all }
            switch op {
            case .lsh: return a << b.value
            case .rsh: return a.truncated(toBytes: width / 8) >> b.value
            default: return a.arithmeticShiftRight(b.value, width: width)
            }
        case .div, .mod, .sdiv, .smod:
            return all
        }
    }

    /// `-self` at `width`.
    func negated(width: OperandWidth) -> Scalar {
        Scalar.constant(0).applying(.sub, self, width: width)
    }

    /// `movsx`: the low `bits` sign-extended (to 64 bits, or to 32 and then zero-extended).
    func signExtended(from bits: Int, width: OperandWidth) -> Scalar {
        if let value = constantValue { return .constant(BPFVM.signExtend(value, bits: bits, width: width)) }
        let half = Int64(1) << Int64(bits - 1)
        if b64.smin >= -half && b64.smax < half {
            // Already the sign extension of its own low bits.
            return width == .bits64 ? self : zeroExtended32
        }
        let extended = Scalar.signed(bytes: bits / 8)
        return width == .bits64 ? extended : extended.zeroExtended32
    }

    /// A byte swap of the low `bits`.
    func swapped(_ kind: ByteSwap, bits: Int) -> Scalar {
        if let value = constantValue { return .constant(kind.apply(value, bits: bits)) }
        if kind == .toLittleEndian { return truncated(toBytes: bits / 8) }
        return .unsigned(bytes: bits / 8)
    }

    /// The low `bytes` bytes, zero-extended.
    func truncated(toBytes bytes: Int) -> Scalar {
        if bytes >= 8 { return self }
        if bytes == 4 { return zeroExtended32 }
        let limit: UInt64 = (1 << UInt64(bytes * 8)) - 1
        if b64.umax <= limit { return self }
        var result = Scalar(tnum: tnum.truncated(toBytes: bytes), b64: .unsigned(0, limit), b32: .unbounded)
        result.synchronize()
        return result
    }
}
