/// The RFC 9669 semantics of the operations that need more than one Swift operator: division and
/// modulo (including by zero and the signed overflow case), sign-extending moves and byte swaps.
///
/// Shared by the interpreter and, later, by constant folding; every function is total.
enum Arithmetic {
    @inline(__always) static func div64(_ a: UInt64, _ b: UInt64) -> UInt64 { b == 0 ? 0 : a / b }
    @inline(__always) static func mod64(_ a: UInt64, _ b: UInt64) -> UInt64 { b == 0 ? a : a % b }
    @inline(__always) static func div32(_ a: UInt32, _ b: UInt32) -> UInt32 { b == 0 ? 0 : a / b }
    @inline(__always) static func mod32(_ a: UInt32, _ b: UInt32) -> UInt32 { b == 0 ? a : a % b }

    /// Signed division: by zero gives 0, and `INT64_MIN / -1` wraps to `INT64_MIN`.
    @inline(__always) static func sdiv64(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let x = Int64(bitPattern: a), y = Int64(bitPattern: b)
        if y == 0 { return 0 }
        return UInt64(bitPattern: x.dividedReportingOverflow(by: y).partialValue)
    }

    /// Signed modulo (sign of the dividend): by zero leaves the dividend, `INT64_MIN % -1` is 0.
    @inline(__always) static func smod64(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let x = Int64(bitPattern: a), y = Int64(bitPattern: b)
        if y == 0 { return a }
        return UInt64(bitPattern: x.remainderReportingOverflow(dividingBy: y).partialValue)
    }

    @inline(__always) static func sdiv32(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let x = Int32(bitPattern: a), y = Int32(bitPattern: b)
        if y == 0 { return 0 }
        return UInt32(bitPattern: x.dividedReportingOverflow(by: y).partialValue)
    }

    @inline(__always) static func smod32(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let x = Int32(bitPattern: a), y = Int32(bitPattern: b)
        if y == 0 { return a }
        return UInt32(bitPattern: x.remainderReportingOverflow(dividingBy: y).partialValue)
    }

    /// `mov` (offset 0) or `movsx` (offset 8/16/32) of ALU64.
    @inline(__always) static func moveSignExtend64(_ value: UInt64, bits: Int16) -> UInt64 {
        switch bits {
        case 8: UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: value)))
        case 16: UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: value)))
        case 32: UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: value)))
        default: value
        }
    }

    /// `mov` (offset 0) or `movsx` (offset 8/16) of ALU32; the result is zero-extended.
    @inline(__always) static func moveSignExtend32(_ value: UInt64, bits: Int16) -> UInt64 {
        switch bits {
        case 8: UInt64(UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: value))))
        case 16: UInt64(UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: value))))
        default: UInt64(UInt32(truncatingIfNeeded: value))
        }
    }

    /// `le16/32/64`: on a little-endian host, truncation to the width.
    @inline(__always) static func toLittleEndian(_ value: UInt64, bits: Int32) -> UInt64 {
        switch bits {
        case 16: UInt64(UInt16(truncatingIfNeeded: value).littleEndian)
        case 32: UInt64(UInt32(truncatingIfNeeded: value).littleEndian)
        default: value.littleEndian
        }
    }

    /// `be16/32/64`: conversion to big endian of the low `bits`, zero-extended.
    @inline(__always) static func toBigEndian(_ value: UInt64, bits: Int32) -> UInt64 {
        switch bits {
        case 16: UInt64(UInt16(truncatingIfNeeded: value).bigEndian)
        case 32: UInt64(UInt32(truncatingIfNeeded: value).bigEndian)
        default: value.bigEndian
        }
    }

    /// `bswap16/32/64`: unconditional swap of the low `bits`, zero-extended.
    @inline(__always) static func byteSwap(_ value: UInt64, bits: Int32) -> UInt64 {
        switch bits {
        case 16: UInt64(UInt16(truncatingIfNeeded: value).byteSwapped)
        case 32: UInt64(UInt32(truncatingIfNeeded: value).byteSwapped)
        default: value.byteSwapped
        }
    }
}
