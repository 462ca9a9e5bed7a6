/// What one instruction form does to registers and memory, as checked mode needs to know it:
/// which registers it reads, how the value it writes gets its provenance, and the size of its
/// memory access. One table, indexed by internal opcode, drives every check of every
/// instruction form (`Sandbox.admit`), so no form can miss one.
struct OperandEffects {
    /// Registers read: bit 0 dst, bit 1 src, bit 2 r0.
    var reads: UInt8
    var rule: Rule
    /// Bytes accessed by a load, store or atomic.
    var size: UInt8

    /// How an instruction form is checked and what provenance its result gets.
    enum Rule: UInt8 {
        /// Reads only (jumps and branches).
        case none
        /// Writes a number to dst.
        case scalar
        /// `mov64 dst, src`: dst takes src's provenance (a sign-extending move makes a number).
        case move
        /// `dst += imm` / `dst -= imm` (64-bit): a pointer stays a pointer into the same object.
        case offsetByImmediate
        /// `dst += src` (64-bit): pointer plus number is a pointer, anything else a number.
        case addRegister
        /// `dst -= src` (64-bit): pointer minus number is a pointer, anything else a number.
        case subtractRegister
        /// A load through src.
        case load
        /// A store of src through dst.
        case store
        /// A store of an immediate through dst.
        case storeImmediate
        /// An atomic read-modify-write through dst.
        case atomic
        /// `lddw`: dst takes the provenance the loader recorded for the constant.
        case loadImmediate64
        /// `call`: a helper's arguments against its prototype (local calls change frames only).
        case call
        /// `callx`: the helper named by dst.
        case callRegister
        /// `exit`.
        case exit
    }

    static let readsDst: UInt8 = 1, readsSrc: UInt8 = 2, readsR0: UInt8 = 4

    /// The effects of the instruction form with opcode byte `opcode` (a valid RFC 9669 opcode).
    init(opcode: UInt8) {
        let cls = opcode & 0x07
        size = 0
        switch cls {
        case Opcode.alu, Opcode.alu64:
            let operation = opcode & 0xf0
            let fromRegister = opcode & Opcode.sourceRegister != 0
            let is64 = cls == Opcode.alu64
            switch operation {
            case 0xb0:  // mov
                reads = fromRegister ? Self.readsSrc : 0
                rule = fromRegister && is64 ? .move : .scalar
            case 0x00 where is64:  // add
                reads = Self.readsDst | (fromRegister ? Self.readsSrc : 0)
                rule = fromRegister ? .addRegister : .offsetByImmediate
            case 0x10 where is64:  // sub
                reads = Self.readsDst | (fromRegister ? Self.readsSrc : 0)
                rule = fromRegister ? .subtractRegister : .offsetByImmediate
            case 0x80, 0xd0:  // neg, byte swaps: dst only
                reads = Self.readsDst
                rule = .scalar
            default:
                reads = Self.readsDst | (fromRegister ? Self.readsSrc : 0)
                rule = .scalar
            }
        case Opcode.ldx:
            reads = Self.readsSrc
            rule = .load
            size = Self.accessSize(opcode)
        case Opcode.st:
            reads = Self.readsDst
            rule = .storeImmediate
            size = Self.accessSize(opcode)
        case Opcode.stx:
            reads = Self.readsDst | Self.readsSrc
            rule = opcode & 0xe0 == Opcode.modeAtomic ? .atomic : .store
            size = Self.accessSize(opcode)
        case Opcode.jmp, Opcode.jmp32:
            let operation = opcode & 0xf0
            let fromRegister = opcode & Opcode.sourceRegister != 0
            switch operation {
            case 0x00:  // ja / gotol
                reads = 0
                rule = .none
            case 0x80:
                reads = fromRegister ? Self.readsDst : 0
                rule = fromRegister ? .callRegister : .call
            case 0x90:
                reads = Self.readsR0
                rule = .exit
            default:
                reads = Self.readsDst | (fromRegister ? Self.readsSrc : 0)
                rule = .none
            }
        default:  // lddw, the only valid LD form
            reads = 0
            rule = .loadImmediate64
        }
    }

    private static func accessSize(_ opcode: UInt8) -> UInt8 {
        switch opcode & 0x18 {
        case 0x00: 4
        case 0x08: 2
        case 0x10: 1
        default: 8
        }
    }

    /// The table by internal opcode, allocated once and never freed, so that the loop reaches
    /// it through a plain pointer.
    nonisolated(unsafe) static let table: UnsafePointer<OperandEffects> = {
        let count = InterpreterOpcode.allCases.count
        let table = UnsafeMutablePointer<OperandEffects>.allocate(capacity: 256)
        table.initialize(repeating: OperandEffects(opcode: Opcode.lddw), count: 256)
        for byte in 0...255 {
            guard let dense = InterpreterOpcode(opcode: UInt8(byte)) else { continue }
            precondition(Int(dense.rawValue) < count)
            table[Int(dense.rawValue)] = OperandEffects(opcode: UInt8(byte))
        }
        return UnsafePointer(table)
    }()
}
