/// The value semantics of ALU operations and branch conditions on concrete operands, exactly as
/// the interpreter computes them: what a verifier folds constants with and checks its abstract
/// transfer functions against.
extension ALUOperation {
    /// `a OP b` at `width` (ALU results are zero-extended from 32 bits; shift amounts are masked).
    package func apply(_ a: UInt64, _ b: UInt64, width: OperandWidth) -> UInt64 {
        if width == .bits32 {
            let x = UInt32(truncatingIfNeeded: a), y = UInt32(truncatingIfNeeded: b)
            let result: UInt32 = switch self {
            case .add: x &+ y
            case .sub: x &- y
            case .mul: x &* y
            case .div: Arithmetic.div32(x, y)
            case .sdiv: Arithmetic.sdiv32(x, y)
            case .mod: Arithmetic.mod32(x, y)
            case .smod: Arithmetic.smod32(x, y)
            case .or: x | y
            case .and: x & y
            case .xor: x ^ y
            case .lsh: x << (y & 31)
            case .rsh: x >> (y & 31)
            case .arsh: UInt32(bitPattern: Int32(bitPattern: x) >> (y & 31))
            case .mov: y
            }
            return UInt64(result)
        }
        return switch self {
        case .add: a &+ b
        case .sub: a &- b
        case .mul: a &* b
        case .div: Arithmetic.div64(a, b)
        case .sdiv: Arithmetic.sdiv64(a, b)
        case .mod: Arithmetic.mod64(a, b)
        case .smod: Arithmetic.smod64(a, b)
        case .or: a | b
        case .and: a & b
        case .xor: a ^ b
        case .lsh: a << (b & 63)
        case .rsh: a >> (b & 63)
        case .arsh: UInt64(bitPattern: Int64(bitPattern: a) >> (b & 63))
        case .mov: b
        }
    }
}

extension JumpCondition {
    /// Whether `a COND b` holds at `width` (JMP32 compares the low 32 bits).
    package func holds(_ a: UInt64, _ b: UInt64, width: OperandWidth) -> Bool {
        if width == .bits32 {
            let x = UInt32(truncatingIfNeeded: a), y = UInt32(truncatingIfNeeded: b)
            let sx = Int32(bitPattern: x), sy = Int32(bitPattern: y)
            return switch self {
            case .eq: x == y
            case .ne: x != y
            case .gt: x > y
            case .ge: x >= y
            case .lt: x < y
            case .le: x <= y
            case .sgt: sx > sy
            case .sge: sx >= sy
            case .slt: sx < sy
            case .sle: sx <= sy
            case .set: x & y != 0
            }
        }
        let sx = Int64(bitPattern: a), sy = Int64(bitPattern: b)
        return switch self {
        case .eq: a == b
        case .ne: a != b
        case .gt: a > b
        case .ge: a >= b
        case .lt: a < b
        case .le: a <= b
        case .sgt: sx > sy
        case .sge: sx >= sy
        case .slt: sx < sy
        case .sle: sx <= sy
        case .set: a & b != 0
        }
    }
}

extension ByteSwap {
    /// The swap of the low `bits` of `value`, zero-extended, as the interpreter computes it.
    package func apply(_ value: UInt64, bits: Int) -> UInt64 {
        switch self {
        case .toLittleEndian: Arithmetic.toLittleEndian(value, bits: Int32(bits))
        case .toBigEndian: Arithmetic.toBigEndian(value, bits: Int32(bits))
        case .unconditional: Arithmetic.byteSwap(value, bits: Int32(bits))
        }
    }
}

/// `movsx`: the low `bits` of `value` sign-extended to `width` (and zero-extended from 32 bits).
package func signExtend(_ value: UInt64, bits: Int, width: OperandWidth) -> UInt64 {
    width == .bits64 ? Arithmetic.moveSignExtend64(value, bits: Int16(bits))
        : Arithmetic.moveSignExtend32(value, bits: Int16(bits))
}
