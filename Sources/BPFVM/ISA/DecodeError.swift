/// Why a sequence of instruction slots is not a valid BPF program, and at which instruction.
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The index of the offending slot (0 for program-level problems such as an empty program).
    public let index: Int
    /// What is wrong.
    public let reason: Reason

    public init(index: Int, reason: Reason) {
        self.index = index
        self.reason = reason
    }

    /// An instruction field that must hold zero, or a register number, named as in RFC 9669.
    public enum Field: String, Hashable, Sendable {
        case dst, src, offset, imm
        case nextSlot = "second slot of lddw"
    }

    /// The problems a strict decoder reports.
    public enum Reason: Hashable, Sendable {
        /// The program has no instructions.
        case emptyProgram
        /// The opcode byte names no instruction of RFC 9669.
        case unknownOpcode(UInt8)
        /// A register field holds a number above 10.
        case invalidRegister(Field, UInt8)
        /// A field this instruction does not use holds a non-zero value.
        case reservedFieldNotZero(Field, Int64)
        /// A field holds a value outside the set this instruction allows.
        case invalidField(Field, Int64, expected: String)
        /// An `lddw` is the last slot, so its second half is missing.
        case truncatedLoadImmediate64
        /// `LD_ABS` / `LD_IND`, the legacy packet-access instructions.
        case legacyPacketAccess(UInt8)
        /// A jump or call lands outside the program.
        case jumpOutOfRange(target: Int)
        /// A jump or call lands on the second slot of an `lddw`.
        case jumpIntoLoadImmediate64(target: Int)
        /// The byte length is not a multiple of 8; `byteCount` bytes are left over.
        case truncatedSlot(byteCount: Int)
        /// The last instruction is neither `exit` nor an unconditional jump, so control can run past the end.
        case fallsOffEnd
    }

    public var description: String {
        switch reason {
        case .emptyProgram:
            return "the program has no instructions"
        case .truncatedLoadImmediate64:
            return "instruction \(index): lddw is the last slot; its second half is missing"
        case .fallsOffEnd:
            return "instruction \(index): the last instruction is neither exit nor an unconditional jump"
        default:
            return "instruction \(index): \(reasonText)"
        }
    }

    private var reasonText: String {
        switch reason {
        case .unknownOpcode(let op):
            return "unknown opcode 0x\(hex(op, width: 2))"
        case .invalidRegister(let field, let value):
            return "\(field.rawValue) register r\(value) does not exist (valid: r0-r10)"
        case .reservedFieldNotZero(let field, let value):
            return "unused \(field.rawValue) field must be zero, found \(value)"
        case .invalidField(let field, let value, let expected):
            return "\(field.rawValue) field \(value) is invalid here (expected \(expected))"
        case .legacyPacketAccess(let op):
            return "legacy packet access (LD_ABS/LD_IND, opcode 0x\(hex(op, width: 2))) is not supported"
        case .jumpOutOfRange(let target):
            return "jump or call to instruction \(target), outside the program"
        case .jumpIntoLoadImmediate64(let target):
            return "jump or call to instruction \(target), the second slot of an lddw"
        case .truncatedSlot(let count):
            return "\(count) trailing bytes do not make a whole 8-byte instruction"
        case .emptyProgram, .truncatedLoadImmediate64, .fallsOffEnd:
            return description
        }
    }
}

/// Lower-case hexadecimal digits of `value`, zero-padded to `width`.
@usableFromInline
func hex(_ value: some BinaryInteger, width: Int = 0) -> String {
    let digits = String(value, radix: 16)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
