/// One 64-bit BPF instruction slot, exactly as it is laid out in memory and in ELF files.
///
/// The fields are raw: nothing here guarantees that the slot is a valid instruction. Decoding
/// (`Operation.decode` / `Program.init`) is what validates a slot; an `lddw` takes two slots, the
/// second holding the upper 32 bits of its immediate.
@frozen
public struct Instruction: Hashable, Sendable {
    /// The opcode byte: class in bits 0-2, then source and operation bits.
    public var opcode: UInt8
    /// Destination register in the low nibble, source register in the high nibble.
    public var registers: UInt8
    /// Signed 16-bit offset (jump distance, memory displacement, or a variant selector).
    public var offset: Int16
    /// Signed 32-bit immediate.
    public var imm: Int32

    @inlinable
    public init(opcode: UInt8, dst: UInt8 = 0, src: UInt8 = 0, offset: Int16 = 0, imm: Int32 = 0) {
        self.opcode = opcode
        self.registers = (dst & 0x0f) | (src << 4)
        self.offset = offset
        self.imm = imm
    }

    /// The slot from its little-endian 64-bit encoding (the form bpf_conformance's `-- raw` uses).
    @inlinable
    public init(rawValue: UInt64) {
        self.opcode = UInt8(truncatingIfNeeded: rawValue)
        self.registers = UInt8(truncatingIfNeeded: rawValue >> 8)
        self.offset = Int16(truncatingIfNeeded: rawValue >> 16)
        self.imm = Int32(truncatingIfNeeded: rawValue >> 32)
    }

    /// The little-endian 64-bit encoding of the slot.
    @inlinable
    public var rawValue: UInt64 {
        UInt64(opcode) | UInt64(registers) << 8 | UInt64(UInt16(bitPattern: offset)) << 16
            | UInt64(UInt32(bitPattern: imm)) << 32
    }

    /// The destination register number (0-15; only 0-10 are valid).
    @inlinable public var dst: UInt8 { registers & 0x0f }
    /// The source register number (0-15; only 0-10 are valid).
    @inlinable public var src: UInt8 { registers >> 4 }

    /// The instruction class (bits 0-2 of the opcode).
    @inlinable public var instructionClass: InstructionClass { InstructionClass(rawValue: opcode & 0x07)! }

    /// The eight bytes of the slot in file order.
    public var bytes: [UInt8] {
        withUnsafeBytes(of: rawValue.littleEndian) { Array($0) }
    }

    /// Decodes slots from little-endian bytes; the byte count must be a multiple of 8.
    public static func slots(fromBytes bytes: some Collection<UInt8>) -> [Instruction]? {
        guard bytes.count % 8 == 0 else { return nil }
        var result: [Instruction] = []
        result.reserveCapacity(bytes.count / 8)
        var word: UInt64 = 0
        var shift: UInt64 = 0
        for byte in bytes {
            word |= UInt64(byte) << shift
            shift += 8
            if shift == 64 {
                result.append(Instruction(rawValue: word))
                word = 0
                shift = 0
            }
        }
        return result
    }
}

/// The eight instruction classes of RFC 9669 (bits 0-2 of the opcode).
public enum InstructionClass: UInt8, Sendable, CaseIterable {
    case ld = 0, ldx = 1, st = 2, stx = 3, alu = 4, jmp = 5, jmp32 = 6, alu64 = 7
}

/// Opcode byte values and field masks, named as in RFC 9669.
public enum Opcode {
    // Classes.
    public static let ld: UInt8 = 0x00, ldx: UInt8 = 0x01, st: UInt8 = 0x02, stx: UInt8 = 0x03
    public static let alu: UInt8 = 0x04, jmp: UInt8 = 0x05, jmp32: UInt8 = 0x06, alu64: UInt8 = 0x07
    // Source bit of ALU and JMP classes.
    public static let sourceImmediate: UInt8 = 0x00, sourceRegister: UInt8 = 0x08
    // Memory modes.
    public static let modeImm: UInt8 = 0x00, modeAbs: UInt8 = 0x20, modeInd: UInt8 = 0x40
    public static let modeMem: UInt8 = 0x60, modeMemSX: UInt8 = 0x80, modeAtomic: UInt8 = 0xc0
    // Atomic operation immediates.
    public static let atomicFetch: Int32 = 0x01
    public static let atomicXchg: Int32 = 0xe0 | 0x01, atomicCmpxchg: Int32 = 0xf0 | 0x01
    // The `lddw` opcode.
    public static let lddw: UInt8 = 0x18
}
