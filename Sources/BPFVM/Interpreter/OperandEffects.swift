/// What one instruction form does to registers and memory, as checked mode needs to know it:
/// which registers it reads, how the value it writes gets its provenance, and the size of its
/// memory access. Derived from the opcode's encoding alone, it is the one source of every
/// instruction's `CheckWord`, and through it of every check `Sandbox.admit` makes, so no
/// instruction form can miss one.
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

    /// Whether the form only computes a register from registers (no memory, constant table,
    /// helper or frame involved), so that when it reads numbers its result is a number.
    var isRegistersOnly: Bool {
        switch rule {
        case .none, .scalar, .move, .offsetByImmediate, .addRegister, .subtractRegister: true
        default: false
        }
    }

    /// Whether the form writes its dst register.
    var writesDst: Bool {
        switch rule {
        case .scalar, .move, .offsetByImmediate, .addRegister, .subtractRegister, .load, .loadImmediate64: true
        default: false
        }
    }
}

/// The checks of one instruction of a program, worked out once when the code is prepared so
/// that checked mode decodes nothing per instruction: the registers it reads, the register it
/// defines, its rule and access size. Bits 0-15 the registers read, 16-31 the register
/// written, 32-39 the rule, 40-43 dst, 44-47 src, 48-55 the access size, 56-61 and 62 the frame
/// slot of an access through r10 (below).
///
/// A load or store through r10 whose offset keeps it inside the frame and inside one 8-byte
/// slot is in bounds whatever the call depth (r10 always points at the top of the running
/// frame): its check word names that slot (bit 62 set, the slot's index in the frame in bits
/// 56-61), so that checked mode skips the bounds check and only tracks the slot's provenance.
///
/// Bits 14 and 15 of the registers read stand for no register: bit 15 for a write to r10, bit
/// 14 for an instruction that does more than compute a register from registers (a memory
/// access, `lddw`, a helper call, an exit). `RegisterShadow.unproven` always has both, so that
/// `Sandbox.admit`'s first test sends such instructions to the full check.
struct CheckWord {
    let raw: UInt64

    static let writesFramePointer: UInt16 = 1 << 15
    static let beyondRegisters: UInt16 = 1 << 14
    /// What an access through r10 asks for besides the registers it moves a value from.
    static let framePointerAccess: UInt16 = beyondRegisters | 1 << 10

    init(raw: UInt64) { self.raw = raw }

    /// The checks of `instruction`, whose opcode byte is still the RFC 9669 one.
    init(_ instruction: Instruction) {
        let effects = OperandEffects(opcode: instruction.opcode)
        let dst = UInt64(instruction.dst), src = UInt64(instruction.src)
        var needed: UInt64 = 0
        if effects.reads & OperandEffects.readsDst != 0 { needed |= 1 << dst }
        if effects.reads & OperandEffects.readsSrc != 0 { needed |= 1 << src }
        if effects.reads & OperandEffects.readsR0 != 0 { needed |= 1 }
        if effects.rule == .atomic && instruction.imm == Opcode.atomicCmpxchg { needed |= 1 }
        // A write to r10 asks for register 15, which never holds a value: the check that the
        // registers read hold values then stops it, at no cost to other instructions.
        if effects.writesDst && dst == 10 { needed |= UInt64(Self.writesFramePointer) }
        // A local call (src 1) changes frames only, which the loop reports to the sandbox.
        let isLocalCall = effects.rule == .call && src == 1
        if !effects.isRegistersOnly && !isLocalCall { needed |= UInt64(Self.beyondRegisters) }
        let defines: UInt64 = effects.writesDst && dst != 10 ? 1 << dst : 0
        let frameSlot = Self.frameSlot(effects, instruction).map { 1 << 62 | UInt64($0) << 56 } ?? 0
        raw = needed | defines << 16 | UInt64(effects.rule.rawValue) << 32 | dst << 40 | src << 44
            | UInt64(effects.size) << 48 | frameSlot
    }

    /// The index in the frame of the one slot a load or store through r10 touches, when it
    /// stays inside the frame and inside that slot.
    private static func frameSlot(_ effects: OperandEffects, _ instruction: Instruction) -> Int? {
        let base = effects.rule == .load ? instruction.src : instruction.dst
        guard effects.rule == .load || effects.rule == .store || effects.rule == .storeImmediate, base == 10 else {
            return nil
        }
        let start = Interpreter.stackFrameSize + Int(instruction.offset), end = start + Int(effects.size)
        guard start >= 0, end <= Interpreter.stackFrameSize, start / 8 == (end - 1) / 8 else { return nil }
        return start / 8
    }

    @inline(__always) var needed: UInt16 { UInt16(truncatingIfNeeded: raw) }
    @inline(__always) var defines: UInt16 { UInt16(truncatingIfNeeded: raw >> 16) }
    @inline(__always) var rule: OperandEffects.Rule {
        unsafeBitCast(UInt8(truncatingIfNeeded: raw >> 32), to: OperandEffects.Rule.self)
    }
    @inline(__always) var dst: Int { Int(truncatingIfNeeded: raw >> 40) & 0xf }
    @inline(__always) var src: Int { Int(truncatingIfNeeded: raw >> 44) & 0xf }
    @inline(__always) var size: Int { Int(truncatingIfNeeded: raw >> 48) & 0xff }
    /// The frame slot of an access through r10 that stays inside it (see above), or nil.
    @inline(__always) var frameSlot: Int? {
        raw & 1 << 62 != 0 ? Int(truncatingIfNeeded: raw >> 56) & 0x3f : nil
    }
}
