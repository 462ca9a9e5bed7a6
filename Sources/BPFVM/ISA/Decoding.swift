extension Operation {
    /// Decodes the instruction starting at `index`, checking every field as a strict loader must:
    /// the opcode is known, registers are r0-r10, unused fields are zero, variant selectors
    /// (offset of sdiv/smod/movsx, imm of byte swaps and atomics) hold allowed values, and an
    /// `lddw` has its second slot.
    public static func decode(_ slots: some RandomAccessCollection<Instruction>, at index: Int) throws(DecodeError)
        -> Operation
    {
        let start = slots.index(slots.startIndex, offsetBy: index)
        let insn = slots[start]
        func fail(_ reason: DecodeError.Reason) -> DecodeError { DecodeError(index: index, reason: reason) }
        func register(_ field: DecodeError.Field, _ value: UInt8) throws(DecodeError) -> Register {
            guard let reg = Register(rawValue: value) else { throw fail(.invalidRegister(field, value)) }
            return reg
        }
        func zero(_ field: DecodeError.Field, _ value: some BinaryInteger) throws(DecodeError) {
            if value != 0 { throw fail(.reservedFieldNotZero(field, Int64(value))) }
        }
        let op = insn.opcode
        switch insn.instructionClass {
        case .alu, .alu64:
            let width: OperandWidth = insn.instructionClass == .alu64 ? .bits64 : .bits32
            let isRegister = op & Opcode.sourceRegister != 0
            let dst = try register(.dst, insn.dst)
            switch op & 0xf0 {
            case 0x80:  // neg
                guard !isRegister else { throw fail(.unknownOpcode(op)) }
                try zero(.src, insn.src)
                try zero(.offset, insn.offset)
                try zero(.imm, insn.imm)
                return .negate(width, dst: dst)
            case 0xd0:  // byte swaps
                if width == .bits64 && isRegister { throw fail(.unknownOpcode(op)) }
                try zero(.src, insn.src)
                try zero(.offset, insn.offset)
                guard [16, 32, 64].contains(insn.imm) else {
                    throw fail(.invalidField(.imm, Int64(insn.imm), expected: "16, 32 or 64"))
                }
                let kind: ByteSwap = width == .bits64 ? .unconditional : (isRegister ? .toBigEndian : .toLittleEndian)
                return .byteSwap(kind, dst: dst, bits: Int(insn.imm))
            case 0xe0, 0xf0:
                throw fail(.unknownOpcode(op))
            default:
                break
            }
            let code = op & 0xf0
            var operation: ALUOperation
            switch code {
            case 0x00: operation = .add
            case 0x10: operation = .sub
            case 0x20: operation = .mul
            case 0x30: operation = .div
            case 0x40: operation = .or
            case 0x50: operation = .and
            case 0x60: operation = .lsh
            case 0x70: operation = .rsh
            case 0x90: operation = .mod
            case 0xa0: operation = .xor
            case 0xb0: operation = .mov
            default: operation = .arsh  // 0xc0
            }
            switch (operation, insn.offset) {
            case (_, 0): break
            case (.div, 1): operation = .sdiv
            case (.mod, 1): operation = .smod
            case (.div, _), (.mod, _):
                throw fail(.invalidField(.offset, Int64(insn.offset), expected: "0 (unsigned) or 1 (signed)"))
            case (.mov, 8) where isRegister, (.mov, 16) where isRegister, (.mov, 32) where isRegister:
                if width == .bits32 && insn.offset == 32 {
                    throw fail(.invalidField(.offset, 32, expected: "8 or 16 for a 32-bit movsx"))
                }
                try zero(.imm, insn.imm)
                return .moveSignExtend(width, dst: dst, src: try register(.src, insn.src), bits: Int(insn.offset))
            default:
                throw fail(.reservedFieldNotZero(.offset, Int64(insn.offset)))
            }
            if isRegister {
                try zero(.imm, insn.imm)
                return .alu(operation, width, dst: dst, source: .register(try register(.src, insn.src)))
            }
            try zero(.src, insn.src)
            return .alu(operation, width, dst: dst, source: .immediate(insn.imm))

        case .jmp, .jmp32:
            let width: OperandWidth = insn.instructionClass == .jmp ? .bits64 : .bits32
            let isRegister = op & Opcode.sourceRegister != 0
            switch op {
            case 0x05:  // ja
                try zero(.dst, insn.dst)
                try zero(.src, insn.src)
                try zero(.imm, insn.imm)
                return .jump(offset: insn.offset)
            case 0x06:  // gotol
                try zero(.dst, insn.dst)
                try zero(.src, insn.src)
                try zero(.offset, insn.offset)
                return .jumpLong(offset: insn.imm)
            case 0x85:
                try zero(.dst, insn.dst)
                try zero(.offset, insn.offset)
                switch insn.src {
                case 0: return .call(.helper(insn.imm))
                case 1: return .call(.local(insn.imm))
                case 2: return .call(.kfunc(insn.imm))
                default: throw fail(.invalidField(.src, Int64(insn.src), expected: "0 (helper), 1 (local) or 2 (kfunc)"))
                }
            case 0x8d:  // callx: the register is in dst
                try zero(.src, insn.src)
                try zero(.offset, insn.offset)
                try zero(.imm, insn.imm)
                return .call(.register(try register(.dst, insn.dst)))
            case 0x95:
                try zero(.dst, insn.dst)
                try zero(.src, insn.src)
                try zero(.offset, insn.offset)
                try zero(.imm, insn.imm)
                return .exit
            default:
                break
            }
            guard let condition = JumpCondition(code: op & 0xf0) else { throw fail(.unknownOpcode(op)) }
            let dst = try register(.dst, insn.dst)
            if isRegister {
                try zero(.imm, insn.imm)
                return .branch(condition, width, dst: dst, source: .register(try register(.src, insn.src)),
                               offset: insn.offset)
            }
            try zero(.src, insn.src)
            return .branch(condition, width, dst: dst, source: .immediate(insn.imm), offset: insn.offset)

        case .ld:
            if op == Opcode.lddw {
                let dst = try register(.dst, insn.dst)
                guard let kind = LoadImmediateKind(rawValue: insn.src) else {
                    throw fail(.invalidField(.src, Int64(insn.src), expected: "0-6"))
                }
                try zero(.offset, insn.offset)
                let nextIndex = slots.index(after: start)
                guard nextIndex != slots.endIndex else { throw fail(.truncatedLoadImmediate64) }
                let next = slots[nextIndex]
                guard next.opcode == 0, next.registers == 0, next.offset == 0 else {
                    throw fail(.reservedFieldNotZero(.nextSlot, Int64(bitPattern: next.rawValue & 0xffff_ffff)))
                }
                let value = UInt64(UInt32(bitPattern: insn.imm)) | UInt64(UInt32(bitPattern: next.imm)) << 32
                return .loadImmediate64(kind, dst: dst, value: value)
            }
            if op & 0xe0 == Opcode.modeAbs || op & 0xe0 == Opcode.modeInd { throw fail(.legacyPacketAccess(op)) }
            throw fail(.unknownOpcode(op))

        case .ldx:
            let size = MemorySize(code: op)
            let signExtend: Bool
            switch op & 0xe0 {
            case Opcode.modeMem: signExtend = false
            case Opcode.modeMemSX where size != .doubleWord: signExtend = true
            default: throw fail(.unknownOpcode(op))
            }
            try zero(.imm, insn.imm)
            return .load(size, dst: try register(.dst, insn.dst), src: try register(.src, insn.src), offset: insn.offset,
                         signExtend: signExtend)

        case .st:
            guard op & 0xe0 == Opcode.modeMem else { throw fail(.unknownOpcode(op)) }
            try zero(.src, insn.src)
            return .storeImmediate(MemorySize(code: op), dst: try register(.dst, insn.dst), offset: insn.offset,
                                   value: insn.imm)

        case .stx:
            let size = MemorySize(code: op)
            let dst = try register(.dst, insn.dst)
            let src = try register(.src, insn.src)
            switch op & 0xe0 {
            case Opcode.modeMem:
                try zero(.imm, insn.imm)
                return .store(size, dst: dst, src: src, offset: insn.offset)
            case Opcode.modeAtomic where size == .word || size == .doubleWord:
                let fetch = insn.imm & Opcode.atomicFetch != 0
                let operation: AtomicOperation
                switch insn.imm & ~Opcode.atomicFetch {
                case 0x00: operation = .add
                case 0x40: operation = .or
                case 0x50: operation = .and
                case 0xa0: operation = .xor
                case 0xe0 where fetch: operation = .xchg
                case 0xf0 where fetch: operation = .cmpxchg
                default:
                    throw fail(.invalidField(.imm, Int64(insn.imm),
                                             expected: "an atomic operation: add/or/and/xor [| fetch], xchg or cmpxchg"))
                }
                return .atomic(operation, fetch: fetch, size, dst: dst, src: src, offset: insn.offset)
            default:
                throw fail(.unknownOpcode(op))
            }
        }
    }
}
