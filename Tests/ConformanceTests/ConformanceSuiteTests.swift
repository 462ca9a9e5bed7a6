import Foundation
import Testing
import BPFVM
@testable import Conformance
import Verifier

/// One `.data` file of the external suite, found at test time.
struct SuiteFile: CustomStringConvertible, Sendable {
    let url: URL
    var description: String { url.lastPathComponent }

    /// `../shared/conformance` beside the repository (the suite is another project's; it is never copied here).
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/conformance")

    static func files(in directory: URL) -> [SuiteFile] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".data") }.sorted().map { SuiteFile(url: directory.appendingPathComponent($0)) }
    }

    static let positive = files(in: directory)
    static let negative = files(in: directory.appendingPathComponent("negative"))
    static let isPresent = !positive.isEmpty

    func verdict() throws -> ConformanceRunner.Verdict {
        let test = try ConformanceTest(name: description, text: String(contentsOf: url, encoding: .utf8))
        return ConformanceRunner().run(test)
    }
}

@Suite("bpf_conformance suite (../shared/conformance)")
struct ConformanceSuiteTests {
    @Test("every program passes in checked and trusted mode and JIT-compiled",
          .enabled(if: SuiteFile.isPresent, "../shared/conformance is not present; skipping the external suite"),
          arguments: SuiteFile.positive)
    func positive(_ file: SuiteFile) throws {
        #expect(try file.verdict() == .passed)
    }

    /// The suite's programs the verifier refuses, and why: shifts by an immediate count past the
    /// operand's width (or negative), which the ISA masks and the kernel's verifier refuses.
    static let refusedByVerifier: Set<String> = Set(["arsh", "lsh", "rsh"].flatMap { op in
        ["32", "64"].flatMap { width in ["high", "neg"].map { "\(op)\(width)-imm-\($0).data" } }
    })

    @Test("every program verifies as a test-run program, except the shifts the kernel refuses too",
          .enabled(if: SuiteFile.isPresent, "../shared/conformance is not present; skipping the external suite"),
          arguments: SuiteFile.positive)
    func verifies(_ file: SuiteFile) throws {
        let test = try ConformanceTest(name: file.description, text: String(contentsOf: file.url, encoding: .utf8))
        let program = try Program(instructions: try test.raw ?? Assembler.assemble(test.assembly ?? ""))
        let environment = VerificationEnvironment(context: .memory(size: test.memory.count, lengthInR2: true),
                                                  helpers: ConformanceRunner.helpers)
        let verdict = Result { () throws(VerifierError) in try Verifier().verify(program, in: environment) }
        if Self.refusedByVerifier.contains(file.description) {
            guard case .failure(let error) = verdict else { Issue.record("accepted"); return }
            #expect(error.message.hasPrefix("invalid shift"), "\(error)")
        } else if case .failure(let error) = verdict {
            Issue.record("refused: \(error)")
        }
    }

    @Test("the suite has its 313 programs and 60 negative files",
          .enabled(if: SuiteFile.isPresent, "../shared/conformance is not present; skipping the external suite"))
    func counts() {
        #expect(SuiteFile.positive.count == 313)
        #expect(SuiteFile.negative.count == 60)
    }

    @Test("every negative file fails for its own reason",
          .enabled(if: SuiteFile.isPresent, "../shared/conformance is not present; skipping the external suite"),
          arguments: SuiteFile.negative)
    func negative(_ file: SuiteFile) throws {
        let expected = try #require(NegativeFiles.reasons[file.description],
                                    "\(file) has no expected reason in NegativeFiles.reasons; add one")
        let outcome = try file.negativeOutcome()
        #expect(outcome.normalised == expected.normalised, "\(file): \(outcome)")
        // The verdict's text is the typed failure's message.
        if case .failed(let failure) = outcome {
            #expect(try file.verdict() == .failed(reason: failure.message))
        }
    }

    @Test("the table of negative reasons lists exactly the files of negative/",
          .enabled(if: SuiteFile.isPresent, "../shared/conformance is not present; skipping the external suite"))
    func negativeTableIsComplete() {
        let files = Set(SuiteFile.negative.map(\.description))
        let listed = Set(NegativeFiles.reasons.keys)
        for name in files.subtracting(listed).sorted() {
            Issue.record("negative/\(name) is new: add its expected failure reason to NegativeFiles.reasons")
        }
        for name in listed.subtracting(files).sorted() {
            Issue.record("NegativeFiles.reasons lists \(name), which is not in negative/")
        }
    }
}

/// What running a negative file gives.
enum NegativeOutcome: Hashable, Sendable, CustomStringConvertible {
    /// The file is not a valid `.data` file.
    case malformed(ConformanceFileError)
    /// The file is a test, and it fails for this reason.
    case failed(ConformanceRunner.Failure)
    /// The file is a test, and it passes (never right for a negative file).
    case passed

    var description: String {
        switch self {
        case .malformed(let error): "malformed file: \(error)"
        case .failed(let failure): "failed: \(failure)"
        case .passed: "passed"
        }
    }

    /// The outcome without the usage text of a wrong operand count, which is help for the reader
    /// rather than part of the reason.
    var normalised: NegativeOutcome {
        guard case .failed(.badAssembly(let error)) = self,
              case let .wrongOperandCount(mnemonic, expected, found, _) = error.reason
        else { return self }
        return .failed(.badAssembly(AssemblyError(
            line: error.line, column: error.column,
            reason: .wrongOperandCount(mnemonic: mnemonic, expected: expected, found: found, usage: ""))))
    }
}

extension SuiteFile {
    func negativeOutcome() throws -> NegativeOutcome {
        let text = try String(contentsOf: url, encoding: .utf8)
        let test: ConformanceTest
        do throws(ConformanceFileError) {
            test = try ConformanceTest(name: description, text: text)
        } catch {
            return .malformed(error)
        }
        return ConformanceRunner().evaluate(test).map(NegativeOutcome.failed) ?? .passed
    }
}

/// Why each file of `../shared/conformance/negative` must fail. A file that fails for another
/// reason (say, an assembler that stopped rejecting out-of-range immediates, so the program runs
/// and returns the wrong value) fails its test.
enum NegativeFiles {
    /// The assembler rejects `-- asm` at line and column (counted within the section; `#` lines are
    /// not part of it).
    static func assembly(_ line: Int, _ column: Int, _ reason: AssemblyError.Reason) -> NegativeOutcome {
        .failed(.badAssembly(AssemblyError(line: line, column: column, reason: reason)))
    }

    /// The assembler rejects a mnemonic's operand count (compared without the usage text).
    static func operandCount(_ mnemonic: String, expected: ClosedRange<Int>, found: Int) -> NegativeOutcome {
        assembly(1, 1, .wrongOperandCount(mnemonic: mnemonic, expected: expected, found: found, usage: ""))
    }

    /// The strict decoder rejects the first instruction for a non-zero field it does not use. These
    /// files end with an empty `-- error` section, which names no error text to check, so the
    /// runner also reports that; the decode error is what matters.
    static func unused(_ field: DecodeError.Field, _ value: Int64 = 1) -> NegativeOutcome {
        .failed(.noExpectation(outcome: .failure(.invalidProgram(
            DecodeError(index: 0, reason: .reservedFieldNotZero(field, value))))))
    }

    static let reasons: [String: NegativeOutcome] = [
        // No `-- asm` or `-- raw` section: nothing to run.
        "empty.data": .failed(.noProgram),
        "empty_instructions.data": .failed(.noProgram),
        // `or %r0, %r10` reads r0 before anything writes it: checked mode traps on the first
        // instruction, and the trap's text does not contain the expected "Invalid".
        "error.data": .failed(.wrongError(
            .trapped(.checked, ExecutionError(index: 0, reason: .uninitializedRegister(.r0))), expected: "Invalid")),
        // The program runs and loads 0x8877665544332211; the file expects a different high byte.
        "incorrect_return_value_high_bits.data": .failed(.wrongResult(actual: 0x8877_6655_4433_2211,
                                                                       expected: 0x8977_6655_4433_2211)),
        "invalid_imm32_dec_range.data": assembly(1, 12, .immediateOutOfRange("2147483648", bits: 32)),
        "invalid_imm32_hex_range.data": assembly(1, 12, .immediateOutOfRange("0x100000000", bits: 32)),
        "invalid_label.data": assembly(1, 4, .undefinedLabel("NOT_A_LABEL")),
        // `lock or [%r10-8]`: the source register is missing.
        "invalid_lock.data": operandCount("lock", expected: 3...3, found: 2),
        // `lock` alone.
        "invalid_lock2.data": operandCount("lock", expected: 3...3, found: 0),
        "invalid_mnemonic.data": assembly(1, 1, .unknownMnemonic("ldxq")),
        // `ldxb %r0, %r1`: a register where a memory operand belongs.
        "invalid_offset.data": assembly(1, 11, .malformedMemoryOperand("%r1")),
        "invalid_offset_range.data": assembly(1, 15, .offsetOutOfRange("+0x10000")),
        // `lddw %r0`: the immediate is missing.
        "invalid_operand_count.data": operandCount("lddw", expected: 2...2, found: 1),
        "invalid_register.data": assembly(1, 9, .invalidRegister("%r50")),
        // `-- Unknown directive` is a section the format does not have.
        "invalid_unknown_directive.data": .malformed(ConformanceFileError(line: 4, reason: .unknownSection("Unknown directive"))),
        "unused-add64_imm-offset.data": unused(.offset),
        "unused-add64_imm-src.data": unused(.src),
        "unused-add64_reg-imm.data": unused(.imm),
        "unused-add64_reg-offset.data": unused(.offset),
        "unused-add_imm-offset.data": unused(.offset),
        "unused-add_imm-src.data": unused(.src),
        "unused-add_reg-imm.data": unused(.imm),
        "unused-add_reg-offset.data": unused(.offset),
        "unused-be16-offset.data": unused(.offset),
        "unused-be16-src.data": unused(.src),
        "unused-call-dst.data": unused(.dst),
        "unused-call-offset.data": unused(.offset),
        "unused-exit-dst.data": unused(.dst),
        "unused-exit-imm.data": unused(.imm),
        "unused-exit-offset.data": unused(.offset),
        "unused-exit-src.data": unused(.src),
        "unused-ja-dst.data": unused(.dst),
        "unused-ja-imm.data": unused(.imm),
        "unused-ja-src.data": unused(.src),
        "unused-jeq_imm-src.data": unused(.src),
        "unused-jeq_reg-imm.data": unused(.imm),
        "unused-jgt_imm-src.data": unused(.src),
        "unused-jgt_reg-imm.data": unused(.imm),
        "unused-ldxdw-imm.data": unused(.imm),
        "unused-ldxw-imm.data": unused(.imm),
        "unused-le16-offset.data": unused(.offset),
        "unused-le16-src.data": unused(.src),
        "unused-mov64_imm-offset.data": unused(.offset),
        "unused-mov64_imm-src.data": unused(.src),
        "unused-mov64_reg-imm.data": unused(.imm),
        "unused-mov64_reg-offset.data": unused(.offset),
        "unused-mov_imm-offset.data": unused(.offset),
        "unused-mov_imm-src.data": unused(.src),
        "unused-mov_reg-imm.data": unused(.imm),
        "unused-mov_reg-offset.data": unused(.offset),
        "unused-neg-imm.data": unused(.imm),
        "unused-neg-offset.data": unused(.offset),
        "unused-neg-src.data": unused(.src),
        "unused-neg64-imm.data": unused(.imm),
        "unused-neg64-offset.data": unused(.offset),
        "unused-neg64-src.data": unused(.src),
        "unused-stdw-src.data": unused(.src),
        "unused-stw-src.data": unused(.src),
        "unused-stxdw-imm.data": unused(.imm),
        "unused-stxw-imm.data": unused(.imm),
    ]
}

@Suite("bpf_conformance file format and runner")
struct ConformanceFormatTests {
    @Test("sections, comments, raw words and bytes, memory and results parse")
    func parse() throws {
        let text = """
            # a comment
            -- asm
            mov %r0, 1
            exit
            -- raw
            0x00000001000000b7
            95 00 00 00 00 00 00 00
            -- mem
            01 02
            ff
            -- result
            0xFFFFFFFFFFFFFFFF
            -- c
            int main() { return -1; }
            """
        let test = try ConformanceTest(name: "t", text: text)
        #expect(test.assembly == "mov %r0, 1\nexit")
        #expect(test.raw == [Instruction(opcode: 0xb7, imm: 1), Instruction(opcode: 0x95)])
        #expect(test.memory == [1, 2, 0xff])
        #expect(test.expectation == .result(.max))
    }

    @Test("malformed files get an error with the line", arguments: [
        ("-- asm\nexit\n-- bogus\n", ConformanceFileError(line: 3, reason: .unknownSection("bogus"))),
        ("mov %r0, 1\n-- asm\n", ConformanceFileError(line: 1, reason: .textOutsideSection)),
        ("-- raw\n01 02 03\n", ConformanceFileError(line: 2, reason: .badRawLine("01 02 03"))),
        ("-- mem\n01 zz\n", ConformanceFileError(line: 2, reason: .badByte("zz"))),
        ("-- result\nforty\n", ConformanceFileError(line: 2, reason: .badResult("forty"))),
    ])
    func malformed(text: String, error: ConformanceFileError) {
        #expect(throws: error) { try ConformanceTest(name: "bad", text: text) }
    }

    static func verdict(_ text: String, modes: [ConformanceRunner.Mode] = ConformanceRunner.Mode.allCases) throws
        -> ConformanceRunner.Verdict
    {
        ConformanceRunner(modes: modes).run(try ConformanceTest(name: "t", text: text))
    }

    @Test("the runner compares all 64 bits of r0")
    func result() throws {
        #expect(try Self.verdict("-- asm\nlddw %r0, 0x100000001\nexit\n-- result\n0x100000001") == .passed)
        #expect(try Self.verdict("-- asm\nlddw %r0, 0x100000001\nexit\n-- result\n0x1")
            == .failed(reason: "r0 is 0x100000001, expected 0x1"))
    }

    @Test("an expected error passes only when the run fails with that text")
    func expectedError() throws {
        let trap = "-- asm\nldxdw %r0, [%r1]\nexit\n-- error\n"
        #expect(try Self.verdict(trap + "holds a number, not a pointer") == .passed)
        guard case .failed = try Self.verdict(trap + "something else") else {
            Issue.record("a different error text must fail")
            return
        }
        guard case .failed = try Self.verdict("-- asm\nmov %r0, 0\nexit\n-- error\nInvalid") else {
            Issue.record("a program that runs must fail a test expecting an error")
            return
        }
    }

    @Test("trusted mode never runs what checked mode trapped on")
    func trustedAfterChecked() throws {
        // A wild store would corrupt the runner in trusted mode; checked mode stops it first.
        let verdict = try Self.verdict("-- asm\nlddw %r1, 0x10\nstdw [%r1], 1\nmov %r0, 0\nexit\n-- result\n0")
        guard case .failed(let reason) = verdict else {
            Issue.record("the wild store passed")
            return
        }
        #expect(reason.hasPrefix("checked run trapped: instruction 2: write of 8 bytes at 0x10"))
    }

    @Test("the JIT runs only what checked mode ran to the end, even when it is the only mode asked for")
    func jitAfterChecked() throws {
        let verdict = try Self.verdict("-- asm\nlddw %r1, 0x10\nstdw [%r1], 1\nmov %r0, 0\nexit\n-- result\n0", modes: [.jit])
        guard case .failed(let reason) = verdict else {
            Issue.record("the wild store passed")
            return
        }
        #expect(reason.hasPrefix("checked run trapped: instruction 2: write of 8 bytes at 0x10"))
    }

    @Test("helper 5 unwinds when it returns 0")
    func unwind() throws {
        #expect(try Self.verdict("-- asm\nmov %r1, 0\ncall 5\nmov %r0, 3\nexit\n-- result\n0") == .passed)
        #expect(try Self.verdict("-- asm\nmov %r1, 4\ncall 5\nexit\n-- result\n4") == .passed)
    }
}
