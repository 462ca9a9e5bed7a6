import Foundation
import Testing
import BPFVM
@testable import Conformance

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
    @Test("every program passes in checked and trusted mode",
          .enabled(if: SuiteFile.isPresent, "../shared/conformance is not present; skipping the external suite"),
          arguments: SuiteFile.positive)
    func positive(_ file: SuiteFile) throws {
        #expect(try file.verdict() == .passed)
    }

    @Test("the suite has its 313 programs and 60 negative files",
          .enabled(if: SuiteFile.isPresent, "../shared/conformance is not present; skipping the external suite"))
    func counts() {
        #expect(SuiteFile.positive.count == 313)
        #expect(SuiteFile.negative.count == 60)
    }

    @Test("every negative file fails with a reason",
          .enabled(if: SuiteFile.isPresent, "../shared/conformance is not present; skipping the external suite"),
          arguments: SuiteFile.negative)
    func negative(_ file: SuiteFile) {
        let verdict: ConformanceRunner.Verdict
        do {
            verdict = try file.verdict()
        } catch {
            // A file the parser rejects (unknown section) is a failure with a reason too.
            #expect(!"\(error)".isEmpty)
            return
        }
        guard case .failed(let reason) = verdict else {
            Issue.record("\(file) passed but must fail")
            return
        }
        #expect(reason.count > 10)
    }
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

    @Test("helper 5 unwinds when it returns 0")
    func unwind() throws {
        #expect(try Self.verdict("-- asm\nmov %r1, 0\ncall 5\nmov %r0, 3\nexit\n-- result\n0") == .passed)
        #expect(try Self.verdict("-- asm\nmov %r1, 4\ncall 5\nexit\n-- result\n4") == .passed)
    }
}
