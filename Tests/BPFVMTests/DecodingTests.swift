import Testing
@testable import BPFVM

/// Every form of every instruction, built from the decoded side.
let everyOperation: [Operation] = {
    var ops: [Operation] = []
    let sources: [Operand] = [.immediate(-7), .immediate(0x7fff_ffff), .register(.r3)]
    for width in OperandWidth.allCases {
        for op in ALUOperation.allCases {
            for source in sources { ops.append(.alu(op, width, dst: .r1, source: source)) }
        }
        ops.append(.negate(width, dst: .r9))
        for bits in width == .bits64 ? [8, 16, 32] : [8, 16] {
            ops.append(.moveSignExtend(width, dst: .r2, src: .r7, bits: bits))
        }
        for condition in JumpCondition.allCases {
            for source in sources { ops.append(.branch(condition, width, dst: .r4, source: source, offset: -3)) }
        }
    }
    for kind in ByteSwap.allCases {
        for bits in [16, 32, 64] { ops.append(.byteSwap(kind, dst: .r5, bits: bits)) }
    }
    for kind in LoadImmediateKind.allCases {
        ops.append(.loadImmediate64(kind, dst: .r6, value: 0x1122_3344_8899_aabb))
    }
    for size in MemorySize.allCases {
        ops.append(.load(size, dst: .r0, src: .r10, offset: -8, signExtend: false))
        if size != .doubleWord { ops.append(.load(size, dst: .r0, src: .r1, offset: 3, signExtend: true)) }
        ops.append(.storeImmediate(size, dst: .r10, offset: -16, value: -2))
        ops.append(.store(size, dst: .r1, src: .r2, offset: 32767))
    }
    for size in [MemorySize.word, .doubleWord] {
        for op in AtomicOperation.allCases {
            for fetch in op.alwaysFetches ? [true] : [false, true] {
                ops.append(.atomic(op, fetch: fetch, size, dst: .r1, src: .r2, offset: 8))
            }
        }
    }
    ops += [.jump(offset: -32768), .jumpLong(offset: 100_000), .call(.helper(14)), .call(.local(-5)),
            .call(.kfunc(77)), .call(.register(.r8)), .exit]
    return ops
}()

@Suite("Instruction decoding")
struct DecodingTests {
    @Test("encode then decode is the identity", arguments: everyOperation)
    func roundTrip(operation: Operation) throws {
        let slots = operation.encoded
        #expect(slots.count == operation.slotCount)
        #expect(try Operation.decode(slots, at: 0) == operation)
    }

    @Test("raw 64-bit words and bytes round-trip")
    func rawEncoding() {
        let insn = Instruction(opcode: 0x61, dst: 0xa, src: 0x1, offset: -4, imm: 0x1234_5678)
        #expect(insn.rawValue == 0x1234_5678_fffc_1a61)
        #expect(Instruction(rawValue: insn.rawValue) == insn)
        #expect(insn.bytes == [0x61, 0x1a, 0xfc, 0xff, 0x78, 0x56, 0x34, 0x12])
        #expect(Instruction.slots(fromBytes: insn.bytes) == [insn])
        #expect(Instruction.slots(fromBytes: [1, 2, 3]) == nil)
    }

    /// The opcodes RFC 9669 defines (legacy LD_ABS/LD_IND excluded).
    static let validOpcodes: Set<UInt8> = {
        var set: Set<UInt8> = [0x18]
        for cls: UInt8 in [0x04, 0x07] {
            for code: UInt8 in [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0] {
                set.insert(cls | code)
                set.insert(cls | 0x08 | code)
            }
            set.insert(cls | 0x80)
        }
        set.formUnion([0xd4, 0xdc, 0xd7])
        for cls: UInt8 in [0x05, 0x06] {
            for code: UInt8 in [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0] {
                set.insert(cls | code)
                set.insert(cls | 0x08 | code)
            }
        }
        set.formUnion([0x05, 0x06, 0x85, 0x8d, 0x95])
        for size: UInt8 in [0x00, 0x08, 0x10, 0x18] {
            set.formUnion([0x61 | size, 0x62 | size, 0x63 | size])
            if size != 0x18 { set.insert(0x81 | size) }
        }
        set.formUnion([0xc3, 0xdb])
        return set
    }()

    @Test("exactly the RFC 9669 opcodes decode", arguments: 0...255)
    func opcodeSpace(opcode: Int) {
        let op = UInt8(opcode)
        // Give each opcode the fields its valid form needs, so that only the opcode decides.
        var imm: Int32 = 0
        if op & 0xf0 == 0xd0 && op & 0x07 == 0x04 || op == 0xd7 { imm = 16 }
        let slots = [Instruction(opcode: op, imm: imm), Instruction(opcode: 0)]
        do {
            _ = try Operation.decode(slots, at: 0)
            #expect(Self.validOpcodes.contains(op), "opcode 0x\(hex(op)) decoded but RFC 9669 does not define it")
        } catch {
            #expect(!Self.validOpcodes.contains(op), "valid opcode 0x\(hex(op)) rejected: \(error)")
            switch error.reason {
            case .unknownOpcode(let bad): #expect(bad == op)
            case .legacyPacketAccess(let bad): #expect(bad == op)
            default: Issue.record("opcode 0x\(hex(op)) rejected for another reason: \(error)")
            }
        }
    }

    struct BadEncoding: CustomStringConvertible, Sendable {
        let slots: [Instruction]
        let reason: DecodeError.Reason
        let index: Int
        var description: String { "\(reason)" }
        init(_ slots: [Instruction], _ reason: DecodeError.Reason, at index: Int = 0) {
            self.slots = slots
            self.reason = reason
            self.index = index
        }
    }

    static let exit = Instruction(opcode: 0x95)

    static let badEncodings: [BadEncoding] = [
        BadEncoding([], .emptyProgram),
        BadEncoding([Instruction(opcode: 0x07, src: 1, imm: 1), exit], .reservedFieldNotZero(.src, 1)),
        BadEncoding([Instruction(opcode: 0x0f, imm: 1), exit], .reservedFieldNotZero(.imm, 1)),
        BadEncoding([Instruction(opcode: 0x07, offset: 2), exit], .reservedFieldNotZero(.offset, 2)),
        BadEncoding([Instruction(opcode: 0x07, dst: 11), exit], .invalidRegister(.dst, 11)),
        BadEncoding([Instruction(opcode: 0x0f, dst: 1, src: 15), exit], .invalidRegister(.src, 15)),
        BadEncoding([Instruction(opcode: 0x37, offset: 2, imm: 1), exit],
                    .invalidField(.offset, 2, expected: "0 (unsigned) or 1 (signed)")),
        BadEncoding([Instruction(opcode: 0xbc, dst: 1, src: 2, offset: 32), exit],
                    .invalidField(.offset, 32, expected: "8 or 16 for a 32-bit movsx")),
        BadEncoding([Instruction(opcode: 0xb7, offset: 8), exit], .reservedFieldNotZero(.offset, 8)),
        BadEncoding([Instruction(opcode: 0xd4, imm: 8), exit], .invalidField(.imm, 8, expected: "16, 32 or 64")),
        BadEncoding([Instruction(opcode: 0xdf, imm: 16), exit], .unknownOpcode(0xdf)),
        BadEncoding([Instruction(opcode: 0x8c), exit], .unknownOpcode(0x8c)),
        BadEncoding([Instruction(opcode: 0x85, src: 3), exit],
                    .invalidField(.src, 3, expected: "0 (helper), 1 (local) or 2 (kfunc)")),
        BadEncoding([Instruction(opcode: 0x95, imm: 1)], .reservedFieldNotZero(.imm, 1)),
        BadEncoding([Instruction(opcode: 0x18, dst: 1)], .truncatedLoadImmediate64),
        BadEncoding([Instruction(opcode: 0x18, dst: 1), Instruction(opcode: 0x18), exit],
                    .reservedFieldNotZero(.nextSlot, 0x18)),
        BadEncoding([Instruction(opcode: 0x18, dst: 1, src: 7), Instruction(opcode: 0), exit],
                    .invalidField(.src, 7, expected: "0-6")),
        BadEncoding([Instruction(opcode: 0x30), exit], .legacyPacketAccess(0x30)),
        BadEncoding([Instruction(opcode: 0xdb, dst: 1, src: 2, imm: 0xe0), exit],
                    .invalidField(.imm, 0xe0,
                                  expected: "an atomic operation: add/or/and/xor [| fetch], xchg or cmpxchg")),
        BadEncoding([Instruction(opcode: 0xd3, dst: 1, src: 2), exit], .unknownOpcode(0xd3)),
        BadEncoding([Instruction(opcode: 0x79, dst: 1, src: 2, imm: 1), exit], .reservedFieldNotZero(.imm, 1)),
        BadEncoding([Instruction(opcode: 0x99, dst: 1, src: 2), exit], .unknownOpcode(0x99)),
        BadEncoding([Instruction(opcode: 0x05, offset: 1), exit], .jumpOutOfRange(target: 2)),
        BadEncoding([Instruction(opcode: 0x05, offset: -2), exit], .jumpOutOfRange(target: -1)),
        BadEncoding([Instruction(opcode: 0x15, offset: 1), Instruction(opcode: 0x18), Instruction(opcode: 0), exit],
                    .jumpIntoLoadImmediate64(target: 2)),
        BadEncoding([Instruction(opcode: 0x85, src: 1, imm: 5), exit], .jumpOutOfRange(target: 6)),
        BadEncoding([Instruction(opcode: 0xb7), Instruction(opcode: 0x15, offset: -2)], .fallsOffEnd, at: 1),
        BadEncoding([Instruction(opcode: 0xb7, imm: 1), exit, Instruction(opcode: 0xb7)], .fallsOffEnd, at: 2),
    ]

    @Test("malformed encodings get a typed error naming the instruction", arguments: badEncodings)
    func badEncoding(_ bad: BadEncoding) {
        #expect(throws: DecodeError(index: bad.index, reason: bad.reason)) {
            try Program(instructions: bad.slots)
        }
    }

    @Test("error messages name the instruction and the problem")
    func messages() {
        let error = DecodeError(index: 3, reason: .reservedFieldNotZero(.src, 1))
        #expect(error.description == "instruction 3: unused src field must be zero, found 1")
        #expect(DecodeError(index: 0, reason: .unknownOpcode(0x8c)).description == "instruction 0: unknown opcode 0x8c")
    }

    @Test("a byte count that is not a multiple of 8 is rejected")
    func truncatedBytes() {
        #expect(throws: DecodeError(index: 1, reason: .truncatedSlot(byteCount: 3))) {
            try Program(bytes: [0x95, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3])
        }
    }
}
