import Foundation
import Testing

@testable import BPFVM

// MARK: - Fixtures

/// The bpf_conformance data, found relative to this file: Tests/BPFVMTests/ -> ../../../shared/conformance.
private let asmConformanceDirectory: URL? = {
    let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // BPFVMTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the package
        .deletingLastPathComponent()  // its parent
        .appendingPathComponent("shared/conformance", isDirectory: true)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        return nil
    }
    return url
}()

private let asmConformanceMissing: Comment = "bpf_conformance data not found at ../shared/conformance (relative to the package)"

/// The `.data` files of a directory of the suite, sorted; empty if the directory is absent.
private func asmDataFiles(_ subdirectory: String = "", prefix: String = "") -> [String] {
    guard let base = asmConformanceDirectory else { return [] }
    let directory = subdirectory.isEmpty ? base : base.appendingPathComponent(subdirectory, isDirectory: true)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(".data") && $0.hasPrefix(prefix) }.sorted()
        .map { subdirectory.isEmpty ? $0 : subdirectory + "/" + $0 }
}

/// The sections of a bpf_conformance `.data` file: the lines after each `-- NAME` header.
private func asmSections(ofDataFile name: String) throws -> [String: String] {
    let url = try #require(asmConformanceDirectory).appendingPathComponent(name)
    let text = try String(contentsOf: url, encoding: .utf8)
    var result: [String: String] = [:]
    var current: String?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("--") {
            let name = line.dropFirst(2).trimmingCharacters(in: .whitespaces)
            current = name
            result[name, default: ""] += ""
        } else if let current {
            result[current, default: ""] += line + "\n"
        }
    }
    return result
}

/// The slots of a `-- raw` section: one little-endian 64-bit word per line.
private func asmRawSlots(_ text: String) throws -> [Instruction] {
    var slots: [Instruction] = []
    for line in text.split(separator: "\n") {
        let word = line.trimmingCharacters(in: .whitespaces)
        if word.isEmpty || word.hasPrefix("#") { continue }
        let digits = word.hasPrefix("0x") ? String(word.dropFirst(2)) : word
        slots.append(Instruction(rawValue: try #require(UInt64(digits, radix: 16), "bad raw word \(word)")))
    }
    return slots
}

private func asmError(_ text: String) -> AssemblyError? {
    do {
        _ = try Assembler.assemble(text)
        return nil
    } catch {
        return error
    }
}

// MARK: - Encodings of every form

/// The mnemonic stems as the conformance suite spells them (kept here, independent of the assembler's tables).
private let asmALUNames: [(String, ALUOperation)] = [
    ("add", .add), ("sub", .sub), ("mul", .mul), ("div", .div), ("sdiv", .sdiv), ("or", .or), ("and", .and),
    ("lsh", .lsh), ("rsh", .rsh), ("mod", .mod), ("smod", .smod), ("xor", .xor), ("mov", .mov), ("arsh", .arsh),
]
private let asmBranchNames: [(String, JumpCondition)] = [
    ("jeq", .eq), ("jgt", .gt), ("jge", .ge), ("jset", .set), ("jne", .ne), ("jsgt", .sgt), ("jsge", .sge),
    ("jlt", .lt), ("jle", .le), ("jslt", .slt), ("jsle", .sle),
]
private let asmSizeNames: [(String, MemorySize)] = [("b", .byte), ("h", .half), ("w", .word), ("dw", .doubleWord)]
private let asmAtomicNames: [(String, AtomicOperation)] = [
    ("add", .add), ("and", .and), ("or", .or), ("xor", .xor), ("xchg", .xchg), ("cmpxchg", .cmpxchg),
]

/// One line of source and the operation it must assemble to.
struct AssemblerEncodingCase: Sendable, CustomTestStringConvertible {
    let source: String
    let operation: BPFVM.Operation
    var testDescription: String { source }
}

private let asmEncodingCases: [AssemblerEncodingCase] = {
    var cases: [AssemblerEncodingCase] = []
    func add(_ source: String, _ operation: BPFVM.Operation) { cases.append(AssemblerEncodingCase(source: source, operation: operation)) }
    for (name, op) in asmALUNames {
        add("\(name) %r1, %r2", .alu(op, .bits64, dst: .r1, source: .register(.r2)))
        add("\(name)64 %r3, -7", .alu(op, .bits64, dst: .r3, source: .immediate(-7)))
        add("\(name) %r10, 0xffffffff", .alu(op, .bits64, dst: .r10, source: .immediate(-1)))
        add("\(name)32 %r4, 0x7fffffff", .alu(op, .bits32, dst: .r4, source: .immediate(Int32.max)))
        add("\(name)32 %r5, -2147483648", .alu(op, .bits32, dst: .r5, source: .immediate(Int32.min)))
        add("\(name)32 %r0, %r10", .alu(op, .bits32, dst: .r0, source: .register(.r10)))
    }
    add("neg %r1", .negate(.bits64, dst: .r1))
    add("neg64 %r2", .negate(.bits64, dst: .r2))
    add("neg32 %r3", .negate(.bits32, dst: .r3))
    add("movsx864 %r6, %r5", .moveSignExtend(.bits64, dst: .r6, src: .r5, bits: 8))
    add("movsx1664 %r8, %r7", .moveSignExtend(.bits64, dst: .r8, src: .r7, bits: 16))
    add("movsx3264 %r0, %r9", .moveSignExtend(.bits64, dst: .r0, src: .r9, bits: 32))
    add("movsx832 %r2, %r1", .moveSignExtend(.bits32, dst: .r2, src: .r1, bits: 8))
    add("movsx1632 %r4, %r3", .moveSignExtend(.bits32, dst: .r4, src: .r3, bits: 16))
    for bits in [16, 32, 64] {
        add("le\(bits) %r1", .byteSwap(.toLittleEndian, dst: .r1, bits: bits))
        add("be\(bits) %r2", .byteSwap(.toBigEndian, dst: .r2, bits: bits))
        add("swap\(bits) %r3", .byteSwap(.unconditional, dst: .r3, bits: bits))
        add("bswap\(bits) %r4", .byteSwap(.unconditional, dst: .r4, bits: bits))
    }
    add("lddw %r0, 0x1122334455667788", .loadImmediate64(.immediate, dst: .r0, value: 0x1122_3344_5566_7788))
    add("lddw %r1, 0xffffffffffffffff", .loadImmediate64(.immediate, dst: .r1, value: .max))
    add("lddw %r2, 18446744073709551615", .loadImmediate64(.immediate, dst: .r2, value: .max))
    add("lddw %r3, -1", .loadImmediate64(.immediate, dst: .r3, value: .max))
    add("lddw %r4, -9223372036854775808", .loadImmediate64(.immediate, dst: .r4, value: 1 << 63))
    add("lddw %r5, 42", .loadImmediate64(.immediate, dst: .r5, value: 42))
    add("lddw %r1, map_fd 3", .loadImmediate64(.mapByFD, dst: .r1, value: 3))
    add("lddw %r1, map_value 0x800000003", .loadImmediate64(.mapValueByFD, dst: .r1, value: 0x8_0000_0003))
    add("lddw %r1, btf_id 77", .loadImmediate64(.variableByBTFID, dst: .r1, value: 77))
    add("lddw %r1, func +4", .loadImmediate64(.codeAddress, dst: .r1, value: 4))
    add("lddw %r1, func -3", .loadImmediate64(.codeAddress, dst: .r1, value: 0xffff_fffd))
    add("lddw %r1, map_idx 0", .loadImmediate64(.mapByIndex, dst: .r1, value: 0))
    add("lddw %r1, map_idx_value 0x1", .loadImmediate64(.mapValueByIndex, dst: .r1, value: 1))
    for (suffix, size) in asmSizeNames {
        add("ldx\(suffix) %r0, [%r1+8]", .load(size, dst: .r0, src: .r1, offset: 8, signExtend: false))
        add("ldx\(suffix) %r2, [%r10-8]", .load(size, dst: .r2, src: .r10, offset: -8, signExtend: false))
        add("ldx\(suffix) %r3, [%r4]", .load(size, dst: .r3, src: .r4, offset: 0, signExtend: false))
        if size != .doubleWord {
            add("ldxs\(suffix) %r0, [%r10-32768]", .load(size, dst: .r0, src: .r10, offset: .min, signExtend: true))
        }
        add("st\(suffix) [%r1+32767], 0x11", .storeImmediate(size, dst: .r1, offset: .max, value: 0x11))
        add("st\(suffix) [%r10-4], -1", .storeImmediate(size, dst: .r10, offset: -4, value: -1))
        add("stx\(suffix) [%r1+0x10], %r9", .store(size, dst: .r1, src: .r9, offset: 16))
        add("stx\(suffix) [%r10], %r0", .store(size, dst: .r10, src: .r0, offset: 0))
    }
    for (name, op) in asmAtomicNames {
        for (suffix, size) in [("", MemorySize.doubleWord), ("32", .word)] {
            add("lock \(name)\(suffix) [%r10-8], %r1",
                .atomic(op, fetch: op.alwaysFetches, size, dst: .r10, src: .r1, offset: -8))
            add("lock fetch \(name)\(suffix) [%r2+4], %r3", .atomic(op, fetch: true, size, dst: .r2, src: .r3, offset: 4))
        }
    }
    add("ja +0", .jump(offset: 0))
    add("ja -1", .jump(offset: -1))
    add("ja +32767", .jump(offset: .max))
    add("ja -32768", .jump(offset: .min))
    add("ja32 +3", .jumpLong(offset: 3))
    add("ja32 -2147483648", .jumpLong(offset: .min))
    for (name, condition) in asmBranchNames {
        add("\(name) %r1, %r2, +1", .branch(condition, .bits64, dst: .r1, source: .register(.r2), offset: 1))
        add("\(name) %r3, 0x80000000, -5", .branch(condition, .bits64, dst: .r3, source: .immediate(.min), offset: -5))
        add("\(name)32 %r4, -1, +2", .branch(condition, .bits32, dst: .r4, source: .immediate(-1), offset: 2))
        add("\(name)32 %r5, %r6, +0", .branch(condition, .bits32, dst: .r5, source: .register(.r6), offset: 0))
    }
    add("call 5", .call(.helper(5)))
    add("call helper 12", .call(.helper(12)))
    add("call %r2", .call(.register(.r2)))
    add("call helper %r3", .call(.register(.r3)))
    add("callx %r4", .call(.register(.r4)))
    add("call local +4", .call(.local(4)))
    add("call local -7", .call(.local(-7)))
    add("call runtime 7", .call(.kfunc(7)))
    add("exit", .exit)
    return cases
}()

@Test("every instruction form assembles to Operation.encoded", arguments: asmEncodingCases)
func assemblerEncodesForm(_ testCase: AssemblerEncodingCase) throws {
    #expect(try Assembler.assemble(testCase.source) == testCase.operation.encoded)
}

/// Raw encodings written out by hand, so the test does not depend on `Operation.encoded` alone.
private let asmRawEncodingCases: [(String, [UInt64])] = [
    ("mov32 %r0, 1", [0x0000_0001_0000_00b4]),
    ("sdiv %r1, %r2", [0x0000_0000_0001_213f]),
    ("smod32 %r1, 3", [0x0000_0003_0001_0194]),
    ("movsx1632 %r0, %r1", [0x0000_0000_0010_10bc]),
    ("movsx3264 %r2, %r3", [0x0000_0000_0020_32bf]),
    ("le16 %r3", [0x0000_0010_0000_03d4]),
    ("be64 %r3", [0x0000_0040_0000_03dc]),
    ("swap32 %r3", [0x0000_0020_0000_03d7]),
    ("bswap32 %r3", [0x0000_0020_0000_03d7]),
    ("lddw %r0, 0x1122334455667788", [0x5566_7788_0000_0018, 0x1122_3344_0000_0000]),
    ("lddw %r1, -1", [0xffff_ffff_0000_0118, 0xffff_ffff_0000_0000]),
    ("ldxsh %r0, [%r10-2]", [0x0000_0000_fffe_a089]),
    ("stdw [%r10-8], 0xcd", [0x0000_00cd_fff8_0a7a]),
    ("stxb [%r1+2], %r9", [0x0000_0000_0002_9173]),
    ("lock fetch add32 [%r10-4], %r3", [0x0000_0001_fffc_3ac3]),
    ("lock xchg [%r10-8], %r1", [0x0000_00e1_fff8_1adb]),
    ("lock cmpxchg32 [%r1], %r2", [0x0000_00f1_0000_21c3]),
    ("ja -1", [0x0000_0000_ffff_0005]),
    ("ja32 +3", [0x0000_0003_0000_0006]),
    ("jsle32 %r1, -5, +7", [0xffff_fffb_0007_01d6]),
    ("call 5", [0x0000_0005_0000_0085]),
    ("call %r2", [0x0000_0000_0000_028d]),
    ("call helper %r2", [0x0000_0000_0000_028d]),
    ("call local +4", [0x0000_0004_0000_1085]),
    ("call runtime 7", [0x0000_0007_0000_2085]),
    ("neg32 %r3", [0x0000_0000_0000_0384]),
    ("exit", [0x0000_0000_0000_0095]),
]

@Test("tricky forms match hand-written raw encodings", arguments: asmRawEncodingCases)
func assemblerRawEncoding(_ source: String, _ words: [UInt64]) throws {
    #expect(try Assembler.assemble(source).map(\.rawValue) == words)
}

// MARK: - Programs: labels, exit, comments, layout

private let asmLayoutCases: [(String, [BPFVM.Operation])] = [
    // Forward and backward labels; lddw counts two slots.
    ("ja L\nmov %r0, 1\nL:\nexit", [BPFVM.Operation.jump(offset: 1), .alu(.mov, .bits64, dst: .r0, source: .immediate(1)), .exit]),
    ("L:\nmov %r0, 0\nja L", [.alu(.mov, .bits64, dst: .r0, source: .immediate(0)), .jump(offset: -2)]),
    ("ja L\nlddw %r0, 1\nL:\nexit", [.jump(offset: 2), .loadImmediate64(.immediate, dst: .r0, value: 1), .exit]),
    // `exit` names the first exit instruction...
    ("jne %r0, 0, exit\nmov %r0, 1\nexit\nexit",
     [.branch(.ne, .bits64, dst: .r0, source: .immediate(0), offset: 1),
      .alu(.mov, .bits64, dst: .r0, source: .immediate(1)), .exit, .exit]),
    // ...unless a label is called exit.
    ("ja exit\nexit\nexit:\nexit", [.jump(offset: 1), .exit, .exit]),
    // Local calls and ja32 fill in imm.
    ("call local f\nexit\nf:\nexit", [.call(.local(1)), .exit, .exit]),
    ("ja32 L\nexit\nL:\nja32 -3", [.jumpLong(offset: 1), .exit, .jumpLong(offset: -3)]),
    // The distance of lddw func counts from the lddw's second slot, as the kernel does (i + imm + 1).
    ("lddw %r1, func f\nexit\nf:\nexit", [.loadImmediate64(.codeAddress, dst: .r1, value: 2), .exit, .exit]),
    // A label may share its line with an instruction; several labels may name one place.
    ("ja L\nL: M: exit", [.jump(offset: 0), .exit]),
    ("jeq %r1, 2, M\nL:\nM:\nexit", [.branch(.eq, .bits64, dst: .r1, source: .immediate(2), offset: 0), .exit]),
    // Comments, blank lines, CRLF, tabs, spacing inside memory operands.
    ("# header\n\nmov %r0, 1 # one\n   # indented comment\nexit#done\n",
     [.alu(.mov, .bits64, dst: .r0, source: .immediate(1)), .exit]),
    ("mov32 %r0, 1\r\nexit\r\n", [.alu(.mov, .bits32, dst: .r0, source: .immediate(1)), .exit]),
    ("\tldxw\t%r0,\t[ %r1 + 8 ]\n  exit  ", [.load(.word, dst: .r0, src: .r1, offset: 8, signExtend: false), .exit]),
    ("mov %r0 , %r1\nmov %r2 3\nexit",
     [.alu(.mov, .bits64, dst: .r0, source: .register(.r1)), .alu(.mov, .bits64, dst: .r2, source: .immediate(3)), .exit]),
    ("", []),
    ("# only a comment\n\nL:\n", []),
]

@Test("labels, the implicit exit label, comments and layout", arguments: asmLayoutCases)
func assemblerProgramLayout(_ source: String, _ operations: [BPFVM.Operation]) throws {
    #expect(try Assembler.assemble(source) == operations.flatMap(\.encoded))
}

// MARK: - Round trip through ConformanceSyntax

private let asmRoundTripOperations: [BPFVM.Operation] = {
    var ops: [BPFVM.Operation] = []
    let registers: [Register] = [.r0, .r5, .r10]
    let immediates: [Int32] = [0, 1, -1, 0x1234, .min, .max]
    let offsets: [Int16] = [0, 1, -1, .min, .max]
    for op in ALUOperation.allCases {
        for width in OperandWidth.allCases {
            for imm in immediates { ops.append(.alu(op, width, dst: .r3, source: .immediate(imm))) }
            for src in registers { ops.append(.alu(op, width, dst: .r1, source: .register(src))) }
        }
    }
    for width in OperandWidth.allCases {
        ops.append(.negate(width, dst: .r7))
        for bits in width == .bits64 ? [8, 16, 32] : [8, 16] {
            ops.append(.moveSignExtend(width, dst: .r2, src: .r9, bits: bits))
        }
    }
    for kind in ByteSwap.allCases {
        for bits in [16, 32, 64] { ops.append(.byteSwap(kind, dst: .r4, bits: bits)) }
    }
    for kind in LoadImmediateKind.allCases {
        for value: UInt64 in [0, 1, 0xffff_ffff, 0x1_0000_0000, 0x1122_3344_5566_7788, .max, 1 << 63] {
            ops.append(.loadImmediate64(kind, dst: .r6, value: value))
        }
    }
    for size in MemorySize.allCases {
        for offset in offsets {
            ops.append(.load(size, dst: .r0, src: .r10, offset: offset, signExtend: false))
            if size != .doubleWord { ops.append(.load(size, dst: .r1, src: .r2, offset: offset, signExtend: true)) }
            ops.append(.storeImmediate(size, dst: .r10, offset: offset, value: -2))
            ops.append(.storeImmediate(size, dst: .r3, offset: offset, value: .max))
            ops.append(.store(size, dst: .r4, src: .r5, offset: offset))
        }
    }
    for op in AtomicOperation.allCases {
        for size in [MemorySize.word, .doubleWord] {
            for fetch in [false, true] {
                ops.append(.atomic(op, fetch: fetch, size, dst: .r10, src: .r1, offset: -8))
                ops.append(.atomic(op, fetch: fetch, size, dst: .r2, src: .r3, offset: 0))
            }
        }
    }
    for offset in offsets { ops.append(.jump(offset: offset)) }
    for offset: Int32 in [0, 1, -1, .min, .max] { ops.append(.jumpLong(offset: offset)) }
    for condition in JumpCondition.allCases {
        for width in OperandWidth.allCases {
            ops.append(.branch(condition, width, dst: .r1, source: .register(.r2), offset: -3))
            for imm in immediates { ops.append(.branch(condition, width, dst: .r9, source: .immediate(imm), offset: 7)) }
        }
    }
    for target: CallTarget in [.helper(5), .helper(-1), .local(3), .local(-4), .local(.min), .kfunc(99),
                               .register(.r2), .register(.r10)]
    {
        ops.append(.call(target))
    }
    ops.append(.exit)
    return ops
}()

@Test("ConformanceSyntax.text re-assembles to the same slots", arguments: asmRoundTripOperations)
func conformanceSyntaxRoundTrip(_ operation: BPFVM.Operation) throws {
    let text = ConformanceSyntax.text(of: operation)
    #expect(!text.contains("\n"))
    let slots = try Assembler.assemble(text)
    #expect(slots == operation.encoded, "\(text)")
    // Decoding the slots and printing again gives the same text.
    #expect(ConformanceSyntax.text(of: try BPFVM.Operation.decode(slots, at: 0)) == text)
}

@Test("ConformanceSyntax prints the suite's spelling")
func conformanceSyntaxSpelling() {
    let cases: [(BPFVM.Operation, String)] = [
        (.alu(.mov, .bits32, dst: .r0, source: .immediate(1)), "mov32 %r0, 1"),
        (.alu(.and, .bits64, dst: .r1, source: .immediate(-1)), "and %r1, 0xffffffff"),
        (.alu(.sdiv, .bits64, dst: .r1, source: .register(.r2)), "sdiv %r1, %r2"),
        (.moveSignExtend(.bits32, dst: .r0, src: .r1, bits: 16), "movsx1632 %r0, %r1"),
        (.byteSwap(.unconditional, dst: .r0, bits: 16), "bswap16 %r0"),
        (.loadImmediate64(.immediate, dst: .r0, value: 0x1122_3344_5566_7788), "lddw %r0, 0x1122334455667788"),
        (.load(.doubleWord, dst: .r0, src: .r1, offset: 8, signExtend: false), "ldxdw %r0, [%r1+8]"),
        (.load(.byte, dst: .r0, src: .r10, offset: -1, signExtend: true), "ldxsb %r0, [%r10-1]"),
        (.storeImmediate(.word, dst: .r0, offset: 0, value: 5), "stw [%r0], 5"),
        (.atomic(.add, fetch: true, .word, dst: .r10, src: .r1, offset: -4), "lock fetch add32 [%r10-4], %r1"),
        (.atomic(.cmpxchg, fetch: true, .doubleWord, dst: .r10, src: .r1, offset: -8), "lock cmpxchg [%r10-8], %r1"),
        (.jump(offset: 0), "ja +0"),
        (.branch(.sle, .bits32, dst: .r1, source: .immediate(-5), offset: -2), "jsle32 %r1, -5, -2"),
        (.call(.local(4)), "call local +4"),
        (.call(.register(.r2)), "call %r2"),
        (.exit, "exit"),
    ]
    for (operation, text) in cases {
        #expect(ConformanceSyntax.text(of: operation) == text)
    }
}

@Test("listing prints one instruction per line and re-assembles")
func conformanceSyntaxListing() throws {
    let source = "lddw %r0, 0x1122334455667788\njeq %r0, 0, +1\nmov %r0, 2\nexit\n"
    let program = try Program(instructions: try Assembler.assemble(source))
    let listing = ConformanceSyntax.listing(of: program)
    #expect(listing == source)
    #expect(try Assembler.assemble(listing) == program.instructions)
}

// MARK: - The bpf_conformance suite

@Test("every -- asm section of the suite assembles, decodes and round-trips",
      .enabled(if: asmConformanceDirectory != nil, asmConformanceMissing), arguments: asmDataFiles())
func conformanceSuiteAssembles(_ file: String) throws {
    let sections = try asmSections(ofDataFile: file)
    let asm = try #require(sections["asm"], "\(file) has no -- asm section")
    let slots: [Instruction]
    do {
        slots = try Assembler.assemble(asm)
    } catch {
        Issue.record("\(file): \(error)")
        return
    }
    let program = try Program(instructions: slots)
    if let raw = sections["raw"] {
        #expect(slots == (try asmRawSlots(raw)), "\(file): assembled slots differ from -- raw")
    }
    let listing = ConformanceSyntax.listing(of: program)
    #expect(try Assembler.assemble(listing) == slots, "\(file): listing does not re-assemble:\n\(listing)")
}

@Test("the suite is all there", .enabled(if: asmConformanceDirectory != nil, asmConformanceMissing))
func conformanceSuitePresent() {
    #expect(asmDataFiles().count == 313)
    #expect(asmDataFiles("negative", prefix: "invalid_").count == 11)
}

/// The error each of the suite's bad-assembly files must give (lines count from the first line of the asm
/// section, comment lines included).
private let asmNegativeExpectations: [String: AssemblyError] = [
    "invalid_imm32_dec_range.data": AssemblyError(line: 2, column: 12, reason: .immediateOutOfRange("2147483648", bits: 32)),
    "invalid_imm32_hex_range.data": AssemblyError(line: 2, column: 12, reason: .immediateOutOfRange("0x100000000", bits: 32)),
    "invalid_label.data": AssemblyError(line: 1, column: 4, reason: .undefinedLabel("NOT_A_LABEL")),
    "invalid_lock.data": AssemblyError(line: 1, column: 1, reason: .wrongOperandCount(
        mnemonic: "lock", expected: 3...3, found: 2, usage: "lock [fetch] add|and|or|xor|xchg|cmpxchg[32] [%rD+off], %rS")),
    "invalid_lock2.data": AssemblyError(line: 1, column: 1, reason: .wrongOperandCount(
        mnemonic: "lock", expected: 3...3, found: 0, usage: "lock [fetch] add|and|or|xor|xchg|cmpxchg[32] [%rD+off], %rS")),
    "invalid_mnemonic.data": AssemblyError(line: 2, column: 1, reason: .unknownMnemonic("ldxq")),
    "invalid_offset.data": AssemblyError(line: 1, column: 11, reason: .malformedMemoryOperand("%r1")),
    "invalid_offset_range.data": AssemblyError(line: 2, column: 15, reason: .offsetOutOfRange("+0x10000")),
    "invalid_operand_count.data": AssemblyError(line: 1, column: 1, reason: .wrongOperandCount(
        mnemonic: "lddw", expected: 2...2, found: 1, usage: "lddw %rD, imm64 (or lddw %rD, KIND value)")),
    "invalid_register.data": AssemblyError(line: 1, column: 9, reason: .invalidRegister("%r50")),
]

@Test("the suite's bad-assembly files are rejected with the right error",
      .enabled(if: asmConformanceDirectory != nil, asmConformanceMissing),
      arguments: asmDataFiles("negative", prefix: "invalid_"))
func conformanceNegativeAssembly(_ file: String) throws {
    let asm = try asmSections(ofDataFile: file)["asm"] ?? ""
    let name = String(file.split(separator: "/").last ?? "")
    if asm.allSatisfy(\.isWhitespace) {
        // invalid_unknown_directive.data: the asm section is empty (the bad part is the section
        // header `-- Unknown directive`); it assembles to nothing, which no Program accepts.
        #expect(try Assembler.assemble(asm).isEmpty)
        #expect(throws: DecodeError(index: 0, reason: .emptyProgram)) { try Program(instructions: []) }
        return
    }
    let error = try #require(asmError(asm), "\(file) assembled without error")
    #expect(error == asmNegativeExpectations[name], "\(file): \(error)")
}

// MARK: - Bad text

struct AssemblerBadCase: Sendable, CustomTestStringConvertible {
    let source: String
    let line: Int
    let column: Int
    let reason: AssemblyError.Reason
    init(_ source: String, _ line: Int, _ column: Int, _ reason: AssemblyError.Reason) {
        self.source = source
        self.line = line
        self.column = column
        self.reason = reason
    }
    var testDescription: String { source.count > 60 ? String(source.prefix(60)) + "..." : source }
}

private let asmFarJump = "jeq %r0, 0, far\n" + String(repeating: "mov %r0, 0\n", count: 40_000) + "far:\nexit\n"

private let asmBadCases: [AssemblerBadCase] = [
    AssemblerBadCase("foo %r0, 1", 1, 1, .unknownMnemonic("foo")),
    AssemblerBadCase("exit\n  MOV %r0, 1", 2, 3, .unknownMnemonic("MOV")),
    AssemblerBadCase("ldxsdw %r0, [%r1]", 1, 1, .unknownMnemonic("ldxsdw")),
    AssemblerBadCase("movsx3232 %r0, %r1", 1, 1, .unknownMnemonic("movsx3232")),
    AssemblerBadCase("mov %r0", 1, 1, .wrongOperandCount(mnemonic: "mov", expected: 2...2, found: 1, usage: "mov %rD, %rS|imm")),
    AssemblerBadCase("neg %r0, 1", 1, 1, .wrongOperandCount(mnemonic: "neg", expected: 1...1, found: 2, usage: "neg %rD")),
    AssemblerBadCase("exit %r0", 1, 1, .wrongOperandCount(mnemonic: "exit", expected: 0...0, found: 1, usage: "exit")),
    AssemblerBadCase("jeq %r0, 1", 1, 1, .wrongOperandCount(mnemonic: "jeq", expected: 3...3, found: 2,
                                                  usage: "jeq %rD, %rS|imm, label|+N|-N")),
    AssemblerBadCase("ldxdw %r0, [%r1+2], 3", 1, 1, .wrongOperandCount(mnemonic: "ldxdw", expected: 2...2, found: 3,
                                                              usage: "ldxdw %rD, [%rS+off]")),
    AssemblerBadCase("call", 1, 1, .wrongOperandCount(
        mnemonic: "call", expected: 1...2, found: 0,
        usage: "call imm | call %rN | call helper imm|%rN | call local label|+N|-N | call runtime imm")),
    AssemblerBadCase("call helper", 1, 1, .wrongOperandCount(
        mnemonic: "call", expected: 2...2, found: 1,
        usage: "call imm | call %rN | call helper imm|%rN | call local label|+N|-N | call runtime imm")),
    AssemblerBadCase("call runtime %r1", 1, 14, .invalidImmediate("%r1")),
    AssemblerBadCase("lock fetch", 1, 1, .wrongOperandCount(mnemonic: "lock", expected: 3...3, found: 0,
                                                   usage: "lock [fetch] add|and|or|xor|xchg|cmpxchg[32] [%rD+off], %rS")),
    AssemblerBadCase("lock add [%r1], %r2, %r3", 1, 1, .wrongOperandCount(
        mnemonic: "lock", expected: 3...3, found: 4, usage: "lock [fetch] add|and|or|xor|xchg|cmpxchg[32] [%rD+off], %rS")),
    AssemblerBadCase("mov %r11, 1", 1, 5, .invalidRegister("%r11")),
    AssemblerBadCase("mov %r0, %r50", 1, 10, .invalidRegister("%r50")),
    AssemblerBadCase("mov %r0, %rx", 1, 10, .invalidRegister("%rx")),
    AssemblerBadCase("mov %r0, %", 1, 10, .invalidRegister("%")),
    AssemblerBadCase("stw [%r12+4], 1", 1, 6, .invalidRegister("%r12")),
    AssemblerBadCase("lock add [%r1], %r16", 1, 17, .invalidRegister("%r16")),
    AssemblerBadCase("mov 1, %r0", 1, 5, .expectedRegister(found: "1")),
    AssemblerBadCase("movsx832 %r0, 5", 1, 15, .expectedRegister(found: "5")),
    AssemblerBadCase("mov %r0, 2147483648", 1, 10, .immediateOutOfRange("2147483648", bits: 32)),
    AssemblerBadCase("mov %r0, -2147483649", 1, 10, .immediateOutOfRange("-2147483649", bits: 32)),
    AssemblerBadCase("mov32 %r0, 0x100000000", 1, 12, .immediateOutOfRange("0x100000000", bits: 32)),
    AssemblerBadCase("stw [%r1], 99999999999999999999999", 1, 12, .immediateOutOfRange("99999999999999999999999", bits: 32)),
    AssemblerBadCase("lddw %r0, 0x10000000000000000", 1, 11, .immediateOutOfRange("0x10000000000000000", bits: 64)),
    AssemblerBadCase("lddw %r0, -9223372036854775809", 1, 11, .immediateOutOfRange("-9223372036854775809", bits: 64)),
    AssemblerBadCase("mov %r0, abc", 1, 10, .invalidImmediate("abc")),
    AssemblerBadCase("mov32 %r0, 0x", 1, 12, .invalidImmediate("0x")),
    AssemblerBadCase("mov %r0, 12z", 1, 10, .invalidImmediate("12z")),
    AssemblerBadCase("mov %r0, é", 1, 10, .invalidImmediate("é")),
    AssemblerBadCase("ldxw %r0, [%r1+32768]", 1, 15, .offsetOutOfRange("+32768")),
    AssemblerBadCase("ldxw %r0, [%r1-32769]", 1, 15, .offsetOutOfRange("-32769")),
    AssemblerBadCase("stxdw [%r1+0x10000], %r2", 1, 11, .offsetOutOfRange("+0x10000")),
    AssemblerBadCase("ldxw %r0, [%r1+]", 1, 11, .malformedMemoryOperand("[%r1+]")),
    AssemblerBadCase("ldxw %r0, [%r1", 1, 11, .malformedMemoryOperand("[%r1")),
    AssemblerBadCase("ldxw %r0, [r1+2]", 1, 11, .malformedMemoryOperand("[r1+2]")),
    AssemblerBadCase("ldxw %r0, [%r1+x]", 1, 11, .malformedMemoryOperand("[%r1+x]")),
    AssemblerBadCase("ldxw %r0, [%r1*2]", 1, 11, .malformedMemoryOperand("[%r1*2]")),
    AssemblerBadCase("ldxw %r0, []", 1, 11, .malformedMemoryOperand("[]")),
    AssemblerBadCase("stw %r1, 1", 1, 5, .malformedMemoryOperand("%r1")),
    AssemblerBadCase("ja nowhere\nexit", 1, 4, .undefinedLabel("nowhere")),
    AssemblerBadCase("mov %r0, 0\njne %r0, 1, exit", 2, 13, .undefinedLabel("exit")),
    AssemblerBadCase("call local f\nexit", 1, 12, .undefinedLabel("f")),
    AssemblerBadCase("a:\nexit\n  a:\nexit", 3, 3, .duplicateLabel("a", firstLine: 1)),
    AssemblerBadCase("1a:\nexit", 1, 1, .invalidLabelName("1a")),
    AssemblerBadCase(":\nexit", 1, 1, .invalidLabelName("")),
    AssemblerBadCase("a-b:\nexit", 1, 1, .invalidLabelName("a-b")),
    AssemblerBadCase("ja +32768", 1, 4, .jumpOutOfRange(target: "+32768", distance: 32768, bits: 16)),
    AssemblerBadCase("jeq %r1, 0, -32769", 1, 13, .jumpOutOfRange(target: "-32769", distance: -32769, bits: 16)),
    AssemblerBadCase("ja32 +2147483648", 1, 6, .jumpOutOfRange(target: "+2147483648", distance: 2_147_483_648, bits: 32)),
    AssemblerBadCase("ja +99999999999999999999", 1, 4, .jumpOutOfRange(target: "+99999999999999999999", distance: nil, bits: 16)),
    AssemblerBadCase(asmFarJump, 1, 13, .jumpOutOfRange(target: "far", distance: 40_000, bits: 16)),
    AssemblerBadCase("ja 5", 1, 4, .invalidJumpTarget("5")),
    AssemblerBadCase("call local 5", 1, 12, .invalidJumpTarget("5")),
    AssemblerBadCase("ja %r1", 1, 4, .invalidJumpTarget("%r1")),
    AssemblerBadCase("ja +x", 1, 4, .invalidJumpTarget("+x")),
    AssemblerBadCase("mov %r0,, 1", 1, 9, .emptyOperand),
    AssemblerBadCase("mov %r0, 1,", 1, 11, .emptyOperand),
    AssemblerBadCase("mov , %r0, 1", 1, 5, .emptyOperand),
    AssemblerBadCase("mov %r0, 1 ,  # comment", 1, 12, .emptyOperand),
    AssemblerBadCase("call foo 5", 1, 6, .unknownCallKind("foo")),
    AssemblerBadCase("lock foo [%r1], %r2", 1, 6, .unknownAtomicOperation("foo")),
    AssemblerBadCase("lock fetch sub [%r1], %r2", 1, 12, .unknownAtomicOperation("sub")),
    AssemblerBadCase("lddw %r0, foo 5", 1, 11, .unknownLoadImmediateKind("foo")),
    AssemblerBadCase("exit\n\n\t mov %r0, %r99", 3, 12, .invalidRegister("%r99")),
    AssemblerBadCase("exit\r\nmov %r0, %r99\r\n", 2, 10, .invalidRegister("%r99")),
]

@Test("bad text gives a typed error at the right line and column", arguments: asmBadCases)
func assemblerRejectsBadText(_ testCase: AssemblerBadCase) throws {
    let error = try #require(asmError(testCase.source), "assembled without error")
    #expect(error.reason == testCase.reason)
    #expect(error.line == testCase.line)
    #expect(error.column == testCase.column)
    #expect(error.description.hasPrefix("line \(testCase.line), column \(testCase.column): "))
}

@Test("error messages say what is wrong")
func assemblerErrorMessages() {
    #expect(asmError("mov %r0, %r11")?.description == "line 1, column 10: invalid register '%r11' (registers are %r0-%r10)")
    #expect(asmError("lock or [%r10-8]")?.description
        == "line 1, column 1: 'lock' takes 3 operands but 2 were given "
        + "(usage: lock [fetch] add|and|or|xor|xchg|cmpxchg[32] [%rD+off], %rS)")
    #expect(asmError("call 1, 2, 3")?.message.hasPrefix("'call' takes 1 or 2 operands but 3 were given") == true)
    #expect(asmError("ja far\nfar:\nexit\nfar:")?.message == "duplicate label 'far' (first defined on line 2)")
    #expect(asmError("ldxb %r0, [%r1+0x10000]")?.message == "offset +0x10000 does not fit in 16 bits (-32768...32767)")
}

/// Random text over the assembler's alphabet must give slots or an `AssemblyError`, never a crash.
@Test("random text never crashes the assembler")
func assemblerSurvivesRandomText() {
    let pieces = ["%r", "%r1", "%r10", "%r99", "[", "]", "+", "-", ",", " ", ":", "#", "\n", "\t", "0x", "0", "9",
                  "f", "ffffffffffffffffffff", "mov", "lddw", "ldxw", "stw", "stxdw", "ja", "ja32", "jeq32", "call",
                  "local", "helper", "runtime", "lock", "fetch", "add", "xchg", "exit", "L", "func", "map_fd", "é",
                  "\r", "-32768", "32767"]
    var state: UInt64 = 0x9e37_79b9_7f4a_7c15
    func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }
    var accepted = 0
    for _ in 0..<5000 {
        var text = ""
        for _ in 0..<next(24) { text += pieces[next(pieces.count)] }
        if (try? Assembler.assemble(text)) != nil { accepted += 1 }
    }
    #expect(accepted > 0)
}

/// Random slots that decode must print as text that re-assembles to the very same slots.
@Test("every decodable random slot round-trips through ConformanceSyntax")
func conformanceSyntaxRandomSlots() throws {
    var state: UInt64 = 0x2545_f491_4f6c_dd1d
    func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state
    }
    let interesting: [Int32] = [0, 1, -1, 8, 16, 32, 64, 0xe1, 0xf1, 0x41, .min, .max]
    var decoded = 0
    for _ in 0..<50_000 {
        let word = next(), choice = next()
        // Unused fields must be zero, so zero each one half of the time.
        let imm = choice & 1 == 0 ? 0 : choice & 2 == 0
            ? interesting[Int((word >> 1) % UInt64(interesting.count))] : Int32(truncatingIfNeeded: word >> 32)
        let offsets: [Int16] = [1, 8, 16, 32, -1, Int16(truncatingIfNeeded: word >> 20)]
        let offset = choice & 4 == 0 ? 0 : offsets[Int((word >> 40) % 6)]
        let src = choice & 8 == 0 ? 0 : UInt8((word >> 24) % 11)
        let dst = choice & 16 == 0 ? 0 : UInt8((word >> 16) % 11)
        let first = Instruction(opcode: UInt8(truncatingIfNeeded: word >> 8), dst: dst, src: src, offset: offset, imm: imm)
        let slots = [first, Instruction(opcode: 0, imm: Int32(truncatingIfNeeded: next()))]
        guard let operation = try? BPFVM.Operation.decode(slots, at: 0) else { continue }
        decoded += 1
        let text = ConformanceSyntax.text(of: operation)
        let assembled = try Assembler.assemble(text)
        #expect(assembled == Array(slots.prefix(operation.slotCount)), "\(text)")
    }
    #expect(decoded > 5_000)
}
