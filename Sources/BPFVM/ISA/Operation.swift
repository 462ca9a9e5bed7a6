/// One decoded, validated BPF instruction: what it does, with every field in range.
///
/// Decoding (`Operation.decode`) yields only valid RFC 9669 instructions, and `encoded` gives back
/// the exact slots a decoded value came from. A value built by hand (say, an atomic on a byte)
/// may encode to slots that do not decode; `Program` validates slots, so such a value can never
/// reach an engine.
public enum Operation: Hashable, Sendable {
    /// `dst = dst OP source` (ALU: on the low 32 bits, result zero-extended).
    case alu(ALUOperation, OperandWidth, dst: Register, source: Operand)
    /// `dst = -dst`.
    case negate(OperandWidth, dst: Register)
    /// `dst = (sN)src`: move with sign extension from 8, 16 or 32 bits (32 only for ALU64).
    case moveSignExtend(OperandWidth, dst: Register, src: Register, bits: Int)
    /// Byte swap of the low `bits` (16, 32 or 64) of `dst`.
    case byteSwap(ByteSwap, dst: Register, bits: Int)
    /// `lddw`: a 64-bit immediate, or one of the pseudo forms a loader resolves.
    case loadImmediate64(LoadImmediateKind, dst: Register, value: UInt64)
    /// `dst = *(size *)(src + offset)`, optionally sign-extending.
    case load(MemorySize, dst: Register, src: Register, offset: Int16, signExtend: Bool)
    /// `*(size *)(dst + offset) = value`.
    case storeImmediate(MemorySize, dst: Register, offset: Int16, value: Int32)
    /// `*(size *)(dst + offset) = src`.
    case store(MemorySize, dst: Register, src: Register, offset: Int16)
    /// An atomic read-modify-write on `*(size *)(dst + offset)` with `src`.
    case atomic(AtomicOperation, fetch: Bool, MemorySize, dst: Register, src: Register, offset: Int16)
    /// `ja`: jump `offset` instructions past the next one.
    case jump(offset: Int16)
    /// `gotol`: jump `offset` instructions past the next one (32-bit range).
    case jumpLong(offset: Int32)
    /// Conditional jump `offset` instructions past the next one.
    case branch(JumpCondition, OperandWidth, dst: Register, source: Operand, offset: Int16)
    /// A call to a helper, a local function, a kfunc, or a helper through a register.
    case call(CallTarget)
    /// Return from the current function (r0 is the result).
    case exit

    /// How many 64-bit slots the instruction takes (2 for `lddw`, else 1).
    public var slotCount: Int {
        if case .loadImmediate64 = self { return 2 }
        return 1
    }

    /// The relative jump distance of a jump, branch or local call, if it has one.
    public var jumpOffset: Int? {
        switch self {
        case .jump(let offset): Int(offset)
        case .jumpLong(let offset): Int(offset)
        case .branch(_, _, _, _, let offset): Int(offset)
        case .call(.local(let offset)): Int(offset)
        case .loadImmediate64(.codeAddress, _, let value): Int(Int32(truncatingIfNeeded: value))
        default: nil
        }
    }

    /// The instruction slots of this operation.
    public var encoded: [Instruction] {
        switch self {
        case let .alu(op, width, dst, source):
            let cls = width == .bits64 ? Opcode.alu64 : Opcode.alu
            switch source {
            case .immediate(let imm):
                return [Instruction(opcode: cls | op.code, dst: dst.rawValue, offset: op.offsetSelector, imm: imm)]
            case .register(let src):
                return [Instruction(opcode: cls | Opcode.sourceRegister | op.code, dst: dst.rawValue, src: src.rawValue,
                                    offset: op.offsetSelector)]
            }
        case let .negate(width, dst):
            return [Instruction(opcode: (width == .bits64 ? Opcode.alu64 : Opcode.alu) | 0x80, dst: dst.rawValue)]
        case let .moveSignExtend(width, dst, src, bits):
            return [Instruction(opcode: (width == .bits64 ? Opcode.alu64 : Opcode.alu) | Opcode.sourceRegister | 0xb0,
                                dst: dst.rawValue, src: src.rawValue, offset: Int16(bits))]
        case let .byteSwap(kind, dst, bits):
            let opcode: UInt8 = switch kind {
            case .toLittleEndian: 0xd4
            case .toBigEndian: 0xdc
            case .unconditional: 0xd7
            }
            return [Instruction(opcode: opcode, dst: dst.rawValue, imm: Int32(bits))]
        case let .loadImmediate64(kind, dst, value):
            return [
                Instruction(opcode: Opcode.lddw, dst: dst.rawValue, src: kind.rawValue, imm: Int32(truncatingIfNeeded: value)),
                Instruction(opcode: 0, imm: Int32(truncatingIfNeeded: value >> 32)),
            ]
        case let .load(size, dst, src, offset, signExtend):
            return [Instruction(opcode: Opcode.ldx | (signExtend ? Opcode.modeMemSX : Opcode.modeMem) | size.code,
                                dst: dst.rawValue, src: src.rawValue, offset: offset)]
        case let .storeImmediate(size, dst, offset, value):
            return [Instruction(opcode: Opcode.st | Opcode.modeMem | size.code, dst: dst.rawValue, offset: offset, imm: value)]
        case let .store(size, dst, src, offset):
            return [Instruction(opcode: Opcode.stx | Opcode.modeMem | size.code, dst: dst.rawValue, src: src.rawValue,
                                offset: offset)]
        case let .atomic(op, fetch, size, dst, src, offset):
            return [Instruction(opcode: Opcode.stx | Opcode.modeAtomic | size.code, dst: dst.rawValue, src: src.rawValue,
                                offset: offset, imm: op.code | (fetch || op.alwaysFetches ? Opcode.atomicFetch : 0))]
        case let .jump(offset):
            return [Instruction(opcode: Opcode.jmp, offset: offset)]
        case let .jumpLong(offset):
            return [Instruction(opcode: Opcode.jmp32, imm: offset)]
        case let .branch(cond, width, dst, source, offset):
            let cls = width == .bits64 ? Opcode.jmp : Opcode.jmp32
            switch source {
            case .immediate(let imm):
                return [Instruction(opcode: cls | cond.code, dst: dst.rawValue, offset: offset, imm: imm)]
            case .register(let src):
                return [Instruction(opcode: cls | Opcode.sourceRegister | cond.code, dst: dst.rawValue, src: src.rawValue,
                                    offset: offset)]
            }
        case let .call(target):
            switch target {
            case .helper(let id): return [Instruction(opcode: 0x85, imm: id)]
            case .local(let offset): return [Instruction(opcode: 0x85, src: 1, imm: offset)]
            case .kfunc(let id): return [Instruction(opcode: 0x85, src: 2, imm: id)]
            case .register(let reg): return [Instruction(opcode: 0x8d, dst: reg.rawValue)]
            }
        case .exit:
            return [Instruction(opcode: 0x95)]
        }
    }
}
