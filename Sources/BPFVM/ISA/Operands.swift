/// A BPF register: r0-r9 are general purpose, r10 is the read-only frame pointer.
public enum Register: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case r0 = 0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10

    /// The frame pointer (r10).
    public static let framePointer = Register.r10

    public var description: String { "r\(rawValue)" }
}

/// The width an ALU or jump instruction operates on: ALU/JMP32 use the low 32 bits, ALU64/JMP all 64.
public enum OperandWidth: Hashable, Sendable, CaseIterable {
    case bits32, bits64
}

/// The second operand of ALU and conditional-jump instructions: a register or a 32-bit immediate.
public enum Operand: Hashable, Sendable {
    case register(Register)
    case immediate(Int32)
}

/// The two-operand arithmetic and logic operations of the ALU and ALU64 classes.
public enum ALUOperation: Hashable, Sendable, CaseIterable {
    case add, sub, mul, div, sdiv, or, and, lsh, rsh, mod, smod, xor, mov, arsh

    /// The operation bits (opcode & 0xf0).
    public var code: UInt8 {
        switch self {
        case .add: 0x00
        case .sub: 0x10
        case .mul: 0x20
        case .div, .sdiv: 0x30
        case .or: 0x40
        case .and: 0x50
        case .lsh: 0x60
        case .rsh: 0x70
        case .mod, .smod: 0x90
        case .xor: 0xa0
        case .mov: 0xb0
        case .arsh: 0xc0
        }
    }

    /// The offset field that selects the signed variant (1 for sdiv and smod, else 0).
    public var offsetSelector: Int16 { self == .sdiv || self == .smod ? 1 : 0 }
}

/// The conditions of conditional jumps (JMP and JMP32 classes).
public enum JumpCondition: Hashable, Sendable, CaseIterable {
    case eq, gt, ge, set, ne, sgt, sge, lt, le, slt, sle

    /// The operation bits (opcode & 0xf0).
    public var code: UInt8 {
        switch self {
        case .eq: 0x10
        case .gt: 0x20
        case .ge: 0x30
        case .set: 0x40
        case .ne: 0x50
        case .sgt: 0x60
        case .sge: 0x70
        case .lt: 0xa0
        case .le: 0xb0
        case .slt: 0xc0
        case .sle: 0xd0
        }
    }

    init?(code: UInt8) {
        guard let match = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = match
    }
}

/// The access size of loads, stores and atomics.
public enum MemorySize: Hashable, Sendable, CaseIterable {
    case byte, half, word, doubleWord

    /// The size bits (opcode & 0x18).
    public var code: UInt8 {
        switch self {
        case .word: 0x00
        case .half: 0x08
        case .byte: 0x10
        case .doubleWord: 0x18
        }
    }

    /// The number of bytes accessed.
    public var byteCount: Int {
        switch self {
        case .byte: 1
        case .half: 2
        case .word: 4
        case .doubleWord: 8
        }
    }

    init(code: UInt8) {
        switch code & 0x18 {
        case 0x00: self = .word
        case 0x08: self = .half
        case 0x10: self = .byte
        default: self = .doubleWord
        }
    }
}

/// The byte-swap family (`END` opcode): conversions to little or big endian, or an unconditional swap.
public enum ByteSwap: Hashable, Sendable, CaseIterable {
    case toLittleEndian, toBigEndian, unconditional
}

/// The read-modify-write operations of the atomic instructions.
public enum AtomicOperation: Hashable, Sendable, CaseIterable {
    case add, or, and, xor, xchg, cmpxchg

    /// The operation bits of the immediate, without the fetch flag.
    public var code: Int32 {
        switch self {
        case .add: 0x00
        case .or: 0x40
        case .and: 0x50
        case .xor: 0xa0
        case .xchg: 0xe0
        case .cmpxchg: 0xf0
        }
    }

    /// Whether the operation always returns the old value (xchg and cmpxchg do).
    public var alwaysFetches: Bool { self == .xchg || self == .cmpxchg }
}

/// What the `src` field of an `lddw` says its 64-bit immediate is (RFC 9669, section 5.4).
public enum LoadImmediateKind: UInt8, Hashable, Sendable, CaseIterable {
    /// A plain 64-bit constant.
    case immediate = 0
    /// A map, by file descriptor (`imm`).
    case mapByFD = 1
    /// A pointer into a map's value, by file descriptor (`imm`) and offset (`next_imm`).
    case mapValueByFD = 2
    /// The address of a variable, by BTF id (`imm`).
    case variableByBTFID = 3
    /// The address of a function, by instruction offset (`imm`).
    case codeAddress = 4
    /// A map, by index into the program's map table (`imm`).
    case mapByIndex = 5
    /// A pointer into a map's value, by map index (`imm`) and offset (`next_imm`).
    case mapValueByIndex = 6
}

/// What a `call` instruction calls.
public enum CallTarget: Hashable, Sendable {
    /// A helper function, by id (`src` 0).
    case helper(Int32)
    /// A BPF function of the same program, `imm` instructions after the next one (`src` 1).
    case local(Int32)
    /// A platform function by BTF id (`src` 2).
    case kfunc(Int32)
    /// The helper whose id is in a register (`callx`).
    case register(Register)
}
