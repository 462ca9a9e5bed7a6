import Testing
@testable import BPFVM

/// A program written as operations, its input memory and the r0 it must return.
struct ProgramCase: CustomStringConvertible, Sendable {
    let name: String
    let operations: [Operation]
    let memory: [UInt8]
    let expected: UInt64
    var description: String { name }

    init(_ name: String, _ operations: [Operation], memory: [UInt8] = [], _ expected: UInt64) {
        self.name = name
        self.operations = operations
        self.memory = memory
        self.expected = expected
    }
}

/// Shorthands for writing test programs.
func mov(_ dst: Register, _ imm: Int32) -> Operation { .alu(.mov, .bits64, dst: dst, source: .immediate(imm)) }
func mov(_ dst: Register, _ src: Register) -> Operation { .alu(.mov, .bits64, dst: dst, source: .register(src)) }
func lddw(_ dst: Register, _ value: UInt64) -> Operation { .loadImmediate64(.immediate, dst: dst, value: value) }

/// Runs `operations` in checked and trusted mode, checks both agree, and returns r0.
func runBoth(_ operations: [Operation], memory: [UInt8] = [], helpers: HelperTable = HelperTable()) throws -> UInt64 {
    let program = try Program(instructions: operations.flatMap(\.encoded))
    let interpreter = try Interpreter(program: program, helpers: helpers)
    var checkedMemory = memory
    let checked = try checkedMemory.withUnsafeMutableBytes { try interpreter.run(memory: $0.count == 0 ? nil : $0) }
    var trustedMemory = memory
    let trusted = try trustedMemory.withUnsafeMutableBytes { try interpreter.runTrusted(memory: $0.count == 0 ? nil : $0) }
    #expect(checked == trusted, "checked mode returned \(checked), trusted mode \(trusted)")
    #expect(checkedMemory == trustedMemory, "the modes left different memory")
    return checked
}

let intMin64: UInt64 = 0x8000_0000_0000_0000
let minusOne: UInt64 = .max

/// Two-operand ALU cases: (operation, width, a, b, expected r0).
let interpreterALUCases: [ProgramCase] = {
    let table: [(ALUOperation, OperandWidth, UInt64, UInt64, UInt64)] = [
        (.add, .bits64, 0xffff_ffff_ffff_fffe, 3, 1),
        (.add, .bits32, 0xffff_ffff, 2, 1),
        (.sub, .bits64, 1, 2, minusOne),
        (.sub, .bits32, 1, 2, 0xffff_ffff),
        (.mul, .bits64, 0x1_0000_0001, 3, 0x3_0000_0003),
        (.mul, .bits32, 0x1_0000_0003, 3, 9),
        (.div, .bits64, 100, 7, 14),
        (.div, .bits64, 100, 0, 0),
        (.div, .bits32, 0x1_0000_0064, 7, 14),
        (.div, .bits32, 5, 0, 0),
        (.sdiv, .bits64, UInt64(bitPattern: -100), 7, UInt64(bitPattern: -14)),
        (.sdiv, .bits64, intMin64, minusOne, intMin64),
        (.sdiv, .bits64, 9, 0, 0),
        (.sdiv, .bits32, 0xffff_ff9c, 7, 0xffff_fff2),
        (.sdiv, .bits32, 0x8000_0000, 0xffff_ffff, 0x8000_0000),
        (.mod, .bits64, 100, 7, 2),
        (.mod, .bits64, 100, 0, 100),
        (.mod, .bits32, 0x1_0000_0064, 0, 0x64),
        (.smod, .bits64, UInt64(bitPattern: -100), 7, UInt64(bitPattern: -2)),
        (.smod, .bits64, 100, UInt64(bitPattern: -7), 2),
        (.smod, .bits64, intMin64, minusOne, 0),
        (.smod, .bits64, UInt64(bitPattern: -5), 0, UInt64(bitPattern: -5)),
        (.smod, .bits32, 0xffff_ff9c, 7, 0xffff_fffe),
        (.smod, .bits32, 0xffff_fffb, 0, 0xffff_fffb),
        (.or, .bits64, 0xf0, 0x0f, 0xff),
        (.or, .bits32, 0x1_0000_00f0, 0x0f, 0xff),
        (.and, .bits64, 0xff0, 0x0ff, 0x0f0),
        (.and, .bits32, minusOne, 0xffff_ffff, 0xffff_ffff),
        (.xor, .bits64, 0xff, 0x0f, 0xf0),
        (.xor, .bits32, 0x1_0000_00ff, 0x0f, 0xf0),
        (.lsh, .bits64, 1, 63, intMin64),
        (.lsh, .bits64, 1, 65, 2),
        (.lsh, .bits32, 1, 33, 2),
        (.lsh, .bits32, 0x8000_0001, 1, 2),
        (.rsh, .bits64, intMin64, 63, 1),
        (.rsh, .bits64, 4, 66, 1),
        (.rsh, .bits32, 0x1_8000_0000, 31, 1),
        (.arsh, .bits64, intMin64, 63, minusOne),
        (.arsh, .bits64, intMin64, 127, minusOne),
        (.arsh, .bits32, 0x8000_0000, 31, 0xffff_ffff),
        (.arsh, .bits32, 0xffff_ffff_4000_0000, 30, 1),
        (.mov, .bits64, 0, minusOne, minusOne),
        (.mov, .bits32, 0, minusOne, 0xffff_ffff),
    ]
    var cases: [ProgramCase] = []
    for (op, width, a, b, expected) in table {
        cases.append(ProgramCase("\(op)\(width == .bits64 ? 64 : 32) reg 0x\(hex(a)), 0x\(hex(b))",
                                 [lddw(.r0, a), lddw(.r1, b), .alu(op, width, dst: .r0, source: .register(.r1)), .exit],
                                 expected))
        // The immediate form where b is a sign-extended 32-bit immediate.
        let imm = Int32(truncatingIfNeeded: b)
        if width == .bits32 ? b <= UInt64(UInt32.max) : UInt64(bitPattern: Int64(imm)) == b {
            cases.append(ProgramCase("\(op)\(width == .bits64 ? 64 : 32) imm 0x\(hex(a)), \(imm)",
                                     [lddw(.r0, a), .alu(op, width, dst: .r0, source: .immediate(imm)), .exit],
                                     expected))
        }
    }
    return cases
}()

/// Unary ALU, moves, byte swaps and lddw.
let interpreterUnaryCases: [ProgramCase] = [
    ProgramCase("neg64", [lddw(.r0, 5), .negate(.bits64, dst: .r0), .exit], UInt64(bitPattern: -5)),
    ProgramCase("neg64 INT_MIN", [lddw(.r0, intMin64), .negate(.bits64, dst: .r0), .exit], intMin64),
    ProgramCase("neg32", [lddw(.r0, 0x1_0000_0005), .negate(.bits32, dst: .r0), .exit], 0xffff_fffb),
    ProgramCase("mov32 imm zero-extends", [.alu(.mov, .bits32, dst: .r0, source: .immediate(-1)), .exit], 0xffff_ffff),
    ProgramCase("mov64 imm sign-extends", [mov(.r0, -1), .exit], minusOne),
    ProgramCase("movsx8 64", [lddw(.r1, 0x180), .moveSignExtend(.bits64, dst: .r0, src: .r1, bits: 8), .exit],
                0xffff_ffff_ffff_ff80),
    ProgramCase("movsx16 64", [lddw(.r1, 0x1_8001), .moveSignExtend(.bits64, dst: .r0, src: .r1, bits: 16), .exit],
                0xffff_ffff_ffff_8001),
    ProgramCase("movsx32 64", [lddw(.r1, 0x1_8000_0001), .moveSignExtend(.bits64, dst: .r0, src: .r1, bits: 32), .exit],
                0xffff_ffff_8000_0001),
    ProgramCase("movsx8 32", [lddw(.r1, 0x80), .moveSignExtend(.bits32, dst: .r0, src: .r1, bits: 8), .exit],
                0xffff_ff80),
    ProgramCase("movsx16 32", [lddw(.r1, 0x7fff), .moveSignExtend(.bits32, dst: .r0, src: .r1, bits: 16), .exit],
                0x7fff),
    ProgramCase("le16", [lddw(.r0, 0x1122_3344_5566_7788), .byteSwap(.toLittleEndian, dst: .r0, bits: 16), .exit], 0x7788),
    ProgramCase("le32", [lddw(.r0, 0x1122_3344_5566_7788), .byteSwap(.toLittleEndian, dst: .r0, bits: 32), .exit],
                0x5566_7788),
    ProgramCase("le64", [lddw(.r0, 0x1122_3344_5566_7788), .byteSwap(.toLittleEndian, dst: .r0, bits: 64), .exit],
                0x1122_3344_5566_7788),
    ProgramCase("be16", [lddw(.r0, 0x1122_3344_5566_7788), .byteSwap(.toBigEndian, dst: .r0, bits: 16), .exit], 0x8877),
    ProgramCase("be32", [lddw(.r0, 0x1122_3344_5566_7788), .byteSwap(.toBigEndian, dst: .r0, bits: 32), .exit],
                0x8877_6655),
    ProgramCase("be64", [lddw(.r0, 0x1122_3344_5566_7788), .byteSwap(.toBigEndian, dst: .r0, bits: 64), .exit],
                0x8877_6655_4433_2211),
    ProgramCase("bswap16", [lddw(.r0, 0x1122_3344_5566_7788), .byteSwap(.unconditional, dst: .r0, bits: 16), .exit],
                0x8877),
    ProgramCase("bswap32", [lddw(.r0, 0x1122_3344_5566_7788), .byteSwap(.unconditional, dst: .r0, bits: 32), .exit],
                0x8877_6655),
    ProgramCase("bswap64", [lddw(.r0, 0x1122_3344_5566_7788), .byteSwap(.unconditional, dst: .r0, bits: 64), .exit],
                0x8877_6655_4433_2211),
    ProgramCase("lddw", [lddw(.r0, 0xdead_beef_cafe_f00d), .exit], 0xdead_beef_cafe_f00d),
]

let interpreterMemoryBytes: [UInt8] = [0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0, 0, 0, 0, 0, 0, 0, 0]

/// Loads, stores and atomics on the input memory and on the stack.
let interpreterMemoryCases: [ProgramCase] = {
    var cases: [ProgramCase] = []
    let loads: [(MemorySize, Bool, UInt64)] = [
        (.byte, false, 0x82), (.half, false, 0x8382), (.word, false, 0x8584_8382), (.doubleWord, false, 0x0088_8786_8584_8382),
        (.byte, true, 0xffff_ffff_ffff_ff82), (.half, true, 0xffff_ffff_ffff_8382), (.word, true, 0xffff_ffff_8584_8382),
    ]
    for (size, signExtend, expected) in loads {
        cases.append(ProgramCase("ldx\(signExtend ? "s" : "") \(size) unaligned",
                                 [.load(size, dst: .r0, src: .r1, offset: 1, signExtend: signExtend), .exit],
                                 memory: interpreterMemoryBytes, expected))
    }
    for size in MemorySize.allCases {
        let mask: UInt64 = size == .doubleWord ? .max : (1 << UInt64(size.byteCount * 8)) - 1
        cases.append(ProgramCase("st \(size) on stack", [
            .store(.doubleWord, dst: .r10, src: .r10, offset: -8),  // fill the slot with junk first
            .storeImmediate(size, dst: .r10, offset: -8, value: -2),
            .load(size, dst: .r0, src: .r10, offset: -8, signExtend: false), .exit,
        ], 0xffff_ffff_ffff_fffe & mask))
        cases.append(ProgramCase("stx \(size) into memory", [
            lddw(.r2, 0x1122_3344_5566_7788),
            .store(size, dst: .r1, src: .r2, offset: 8),
            .load(.doubleWord, dst: .r0, src: .r1, offset: 8, signExtend: false), .exit,
        ], memory: interpreterMemoryBytes, 0x1122_3344_5566_7788 & mask))
    }
    // Atomics: memory word at r1+8 starts as 0b1100 (12); operand 0b1010 (10).
    let atomics: [(AtomicOperation, Bool, MemorySize, UInt64, UInt64)] = [
        // (op, fetch, size, expected memory, expected r2 afterwards)
        (.add, false, .doubleWord, 22, 10), (.add, true, .doubleWord, 22, 12),
        (.or, false, .doubleWord, 14, 10), (.or, true, .doubleWord, 14, 12),
        (.and, false, .doubleWord, 8, 10), (.and, true, .doubleWord, 8, 12),
        (.xor, false, .doubleWord, 6, 10), (.xor, true, .doubleWord, 6, 12),
        (.xchg, true, .doubleWord, 10, 12),
        (.add, false, .word, 22, 10), (.add, true, .word, 22, 12),
        (.or, false, .word, 14, 10), (.or, true, .word, 14, 12),
        (.and, false, .word, 8, 10), (.and, true, .word, 8, 12),
        (.xor, false, .word, 6, 10), (.xor, true, .word, 6, 12),
        (.xchg, true, .word, 10, 12),
    ]
    for (op, fetch, size, memoryAfter, r2After) in atomics {
        cases.append(ProgramCase("atomic \(fetch ? "fetch " : "")\(op) \(size)", [
            .storeImmediate(.doubleWord, dst: .r1, offset: 8, value: 12),
            mov(.r2, 10),
            .atomic(op, fetch: fetch, size, dst: .r1, src: .r2, offset: 8),
            .load(.doubleWord, dst: .r0, src: .r1, offset: 8, signExtend: false),
            .alu(.lsh, .bits64, dst: .r0, source: .immediate(8)),
            .alu(.or, .bits64, dst: .r0, source: .register(.r2)), .exit,
        ], memory: interpreterMemoryBytes, memoryAfter << 8 | r2After))
    }
    for size in [MemorySize.word, .doubleWord] {
        cases.append(ProgramCase("cmpxchg \(size) equal", [
            .storeImmediate(.doubleWord, dst: .r1, offset: 8, value: 12),
            mov(.r0, 12), mov(.r2, 99),
            .atomic(.cmpxchg, fetch: true, size, dst: .r1, src: .r2, offset: 8),
            .load(.doubleWord, dst: .r3, src: .r1, offset: 8, signExtend: false),
            .alu(.lsh, .bits64, dst: .r3, source: .immediate(8)),
            .alu(.or, .bits64, dst: .r0, source: .register(.r3)), .exit,
        ], memory: interpreterMemoryBytes, 99 << 8 | 12))
        cases.append(ProgramCase("cmpxchg \(size) different", [
            .storeImmediate(.doubleWord, dst: .r1, offset: 8, value: 12),
            mov(.r0, 13), mov(.r2, 99),
            .atomic(.cmpxchg, fetch: true, size, dst: .r1, src: .r2, offset: 8),
            .load(.doubleWord, dst: .r3, src: .r1, offset: 8, signExtend: false),
            .alu(.lsh, .bits64, dst: .r3, source: .immediate(8)),
            .alu(.or, .bits64, dst: .r0, source: .register(.r3)), .exit,
        ], memory: interpreterMemoryBytes, 12 << 8 | 12))
    }
    cases.append(ProgramCase("32-bit cmpxchg compares only the low half of r0", [
        .storeImmediate(.word, dst: .r1, offset: 8, value: 7),
        lddw(.r0, 0xffff_ffff_0000_0007), mov(.r2, 1),
        .atomic(.cmpxchg, fetch: true, .word, dst: .r1, src: .r2, offset: 8),
        .load(.word, dst: .r3, src: .r1, offset: 8, signExtend: false),
        .alu(.lsh, .bits64, dst: .r3, source: .immediate(32)),
        .alu(.or, .bits64, dst: .r0, source: .register(.r3)), .exit,
    ], memory: interpreterMemoryBytes, 1 << 32 | 7))
    return cases
}()

/// Conditional jumps: each case returns 1 when the branch is taken, 0 when not.
let interpreterJumpCases: [ProgramCase] = {
    let table: [(JumpCondition, OperandWidth, UInt64, UInt64, Bool)] = [
        (.eq, .bits64, 5, 5, true), (.eq, .bits64, 5, 0x1_0000_0005, false), (.eq, .bits32, 5, 0x1_0000_0005, true),
        (.ne, .bits64, 5, 6, true), (.ne, .bits32, 0x1_0000_0006, 6, false),
        (.gt, .bits64, minusOne, 1, true), (.gt, .bits64, 1, 1, false), (.gt, .bits32, 0x1_0000_0000, 1, false),
        (.ge, .bits64, 1, 1, true), (.ge, .bits64, 0, 1, false), (.ge, .bits32, 0xffff_ffff, 0x1_0000_0000, true),
        (.lt, .bits64, 1, minusOne, true), (.lt, .bits64, 1, 1, false), (.lt, .bits32, 0x2_0000_0000, 1, true),
        (.le, .bits64, 1, 1, true), (.le, .bits64, 2, 1, false), (.le, .bits32, 0x1_0000_0002, 2, true),
        (.set, .bits64, 0b1010, 0b0010, true), (.set, .bits64, 0b1010, 0b0101, false),
        (.set, .bits32, 0x1_0000_0000, 0x1_0000_0000, false),
        (.sgt, .bits64, 1, minusOne, true), (.sgt, .bits64, minusOne, 1, false), (.sgt, .bits32, 0xffff_ffff, 0, false),
        (.sgt, .bits32, 0x1, 0xffff_ffff_ffff_ffff, true),
        (.sge, .bits64, minusOne, minusOne, true), (.sge, .bits64, intMin64, 0, false),
        (.sge, .bits32, 0x8000_0000, 0, false),
        (.slt, .bits64, minusOne, 0, true), (.slt, .bits64, 0, minusOne, false), (.slt, .bits32, 0x8000_0000, 0, true),
        (.sle, .bits64, intMin64, intMin64, true), (.sle, .bits64, 1, 0, false),
        (.sle, .bits32, 0x7fff_ffff, 0x8000_0000, false),
    ]
    var cases: [ProgramCase] = []
    for (condition, width, a, b, taken) in table {
        let tail: [Operation] = [mov(.r0, 0), .exit, mov(.r0, 1), .exit]
        cases.append(ProgramCase("j\(condition)\(width == .bits32 ? "32" : "") reg 0x\(hex(a)) 0x\(hex(b))",
                                 [lddw(.r1, a), lddw(.r2, b),
                                  .branch(condition, width, dst: .r1, source: .register(.r2), offset: 2)] + tail,
                                 taken ? 1 : 0))
        let imm = Int32(truncatingIfNeeded: b)
        if width == .bits32 || UInt64(bitPattern: Int64(imm)) == b {
            cases.append(ProgramCase("j\(condition)\(width == .bits32 ? "32" : "") imm 0x\(hex(a)) \(imm)",
                                     [lddw(.r1, a), .branch(condition, width, dst: .r1, source: .immediate(imm), offset: 2)]
                                        + tail,
                                     taken ? 1 : 0))
        }
    }
    return cases
}()

/// Control flow: unconditional jumps, loops and bpf-to-bpf calls.
let interpreterControlCases: [ProgramCase] = [
    ProgramCase("ja skips", [mov(.r0, 1), .jump(offset: 1), mov(.r0, 2), .exit], 1),
    ProgramCase("gotol skips", [mov(.r0, 1), .jumpLong(offset: 1), mov(.r0, 2), .exit], 1),
    ProgramCase("loop sums 1..100", [
        mov(.r0, 0), mov(.r1, 1),
        .alu(.add, .bits64, dst: .r0, source: .register(.r1)),
        .alu(.add, .bits64, dst: .r1, source: .immediate(1)),
        .branch(.le, .bits64, dst: .r1, source: .immediate(100), offset: -3), .exit,
    ], 5050),
    ProgramCase("local call keeps r6-r9 and gets a fresh frame", [
        mov(.r6, 6), mov(.r9, 9),
        .storeImmediate(.doubleWord, dst: .r10, offset: -8, value: 111),
        mov(.r1, 20),
        .call(.local(5)),
        .load(.doubleWord, dst: .r2, src: .r10, offset: -8, signExtend: false),  // caller's slot intact
        .alu(.add, .bits64, dst: .r0, source: .register(.r2)),
        .alu(.add, .bits64, dst: .r0, source: .register(.r6)),
        .alu(.add, .bits64, dst: .r0, source: .register(.r9)),
        .exit,
        // callee: clobbers r6, r9 and its own stack slot, returns r1 * 2
        .storeImmediate(.doubleWord, dst: .r10, offset: -8, value: 999),
        mov(.r6, 0), mov(.r9, 0),
        mov(.r0, .r1), .alu(.mul, .bits64, dst: .r0, source: .immediate(2)), .exit,
    ], 40 + 111 + 6 + 9),
    ProgramCase("callee writes the caller's stack through a pointer", [
        mov(.r1, .r10), .alu(.add, .bits64, dst: .r1, source: .immediate(-8)),
        .call(.local(2)),
        .load(.doubleWord, dst: .r0, src: .r10, offset: -8, signExtend: false), .exit,
        .storeImmediate(.doubleWord, dst: .r1, offset: 0, value: 77), mov(.r0, 0), .exit,
    ], 77),
    ProgramCase("recursion to the 8-frame limit (factorial 7: entry + 7 frames)", [
        mov(.r1, 7), .call(.local(1)), .exit,
        // fact(r1): if r1 <= 1 return 1 else return r1 * fact(r1 - 1)
        mov(.r0, 1), .branch(.le, .bits64, dst: .r1, source: .immediate(1), offset: 5),
        mov(.r6, .r1), .alu(.sub, .bits64, dst: .r1, source: .immediate(1)),
        .call(.local(-5)), .alu(.mul, .bits64, dst: .r0, source: .register(.r6)), .exit, .exit,
    ], 5040),
]

@Suite("Interpreter semantics")
struct InterpreterTests {
    @Test("ALU and ALU64", arguments: interpreterALUCases)
    func alu(_ test: ProgramCase) throws {
        #expect(try runBoth(test.operations, memory: test.memory) == test.expected)
    }

    @Test("unary operations, moves, byte swaps and lddw", arguments: interpreterUnaryCases)
    func unary(_ test: ProgramCase) throws {
        #expect(try runBoth(test.operations, memory: test.memory) == test.expected)
    }

    @Test("loads, stores and atomics", arguments: interpreterMemoryCases)
    func memory(_ test: ProgramCase) throws {
        #expect(try runBoth(test.operations, memory: test.memory) == test.expected)
    }

    @Test("conditional jumps", arguments: interpreterJumpCases)
    func jumps(_ test: ProgramCase) throws {
        #expect(try runBoth(test.operations, memory: test.memory) == test.expected)
    }

    @Test("control flow and bpf-to-bpf calls", arguments: interpreterControlCases)
    func control(_ test: ProgramCase) throws {
        #expect(try runBoth(test.operations, memory: test.memory) == test.expected)
    }

    static let addHelper = Helper(id: 1, name: "add5", function: { a, b, c, d, e, _ in a &+ b &+ c &+ d &+ e })
    /// Returns 1 when the context pointer leads to the run's `ExecutionContext` (the first one
    /// a test made), 2 when it leads to none, 0 otherwise.
    static let contextHelper = Helper(id: 2, name: "context", function: { _, _, _, _, _, context in
        guard let shared = ExecutionContext.from(context) else { return 2 }
        return shared.trace.lines == ["marker"] ? 1 : 0
    })

    @Test("helpers get r1-r5 and the context; callx calls by id")
    func helpers() throws {
        let helpers = HelperTable([Self.addHelper, Self.contextHelper])
        let ops: [Operation] = [mov(.r1, 1), mov(.r2, 2), mov(.r3, 3), mov(.r4, 4), mov(.r5, 5), .call(.helper(1)),
                                mov(.r6, .r0), mov(.r1, 10), mov(.r2, 0), mov(.r3, 0), mov(.r4, 0), mov(.r5, 0),
                                mov(.r7, 1), .call(.register(.r7)), .alu(.add, .bits64, dst: .r0, source: .register(.r6)),
                                .exit]
        #expect(try runBoth(ops, helpers: helpers) == 25)
        let program = try Program(instructions: [Operation.call(.helper(2)), .exit].flatMap(\.encoded))
        let interpreter = try Interpreter(program: program, helpers: helpers)
        let context = ExecutionContext()
        context.trace.write("marker")
        #expect(try interpreter.run(context: context) == 1)
        #expect(try interpreter.runTrusted(context: context) == 1)
        #expect(try interpreter.run() == 2)
    }

    @Test("the unwind helper stops the program when it returns 0")
    func unwind() throws {
        var helpers = HelperTable([Helper(id: 5, name: "unwind", function: { r1, _, _, _, _, _ in r1 })])
        helpers.unwindHelperID = 5
        let stops: [Operation] = [mov(.r1, 0), .call(.helper(5)), mov(.r0, 9), .exit]
        #expect(try runBoth(stops, helpers: helpers) == 0)
        let continues: [Operation] = [mov(.r1, 3), .call(.helper(5)), mov(.r0, 9), .exit]
        #expect(try runBoth(continues, helpers: helpers) == 9)
    }

    @Test("a call to an unknown helper is a load error naming it")
    func unknownHelper() throws {
        let program = try Program(instructions: [Operation.call(.helper(99)), .exit].flatMap(\.encoded))
        #expect(throws: LoadError(index: 0, reason: .unknownHelper(99))) {
            try Interpreter(program: program, helpers: HelperTable())
        }
        let kfunc = try Program(instructions: [Operation.call(.kfunc(3)), .exit].flatMap(\.encoded))
        #expect(throws: LoadError(index: 0, reason: .kfuncCall(3))) {
            try Interpreter(program: kfunc, helpers: HelperTable())
        }
        let mapLoad = try Program(instructions: [Operation.loadImmediate64(.mapByFD, dst: .r1, value: 3), mov(.r0, 0),
                                                 .exit].flatMap(\.encoded))
        #expect(throws: LoadError(index: 0, reason: .unresolvedLoadImmediate(.mapByFD))) {
            try Interpreter(program: mapLoad, helpers: HelperTable())
        }
    }
}
