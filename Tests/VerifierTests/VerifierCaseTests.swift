import BPFVM
import Foundation
import Testing
import TestSupport
import Verifier

/// What the verifier said about a program: accepted, or rejected with a message (the
/// `VerifierError`'s, or the `DecodeError`'s when the instructions do not even make a
/// `Program`: jumps out of range, into an lddw, running off the end).
enum Verdict: CustomStringConvertible {
    case accepted
    case rejected(String)

    func satisfies(_ expectation: Expectation) -> Bool {
        switch (self, expectation) {
        case (.accepted, .accept): true
        case (.rejected(let message), .reject(let expected)): expected.isEmpty || message.contains(expected)
        default: false
        }
    }

    var description: String {
        switch self {
        case .accepted: "accepted"
        case .rejected(let message): "rejected: \(message)"
        }
    }
}

/// C compiled for the tests: the host's BTF (progs/host_types.c, which defines the hooks'
/// prototypes the verifier types hook contexts by) and the programs of `Programs/`.
enum CompiledPrograms {
    static let clang = "/opt/swift/usr/bin/clang"
    static let isAvailable = FileManager.default.isExecutableFile(atPath: clang)
    static let unavailable: Comment = "needs /opt/swift/usr/bin/clang to compile the host's BTF and Programs/*.c"

    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let programsDirectory = testsDirectory.appendingPathComponent("Programs")
    static let progsDirectory = CompiledFixtures.packageDirectory.appendingPathComponent("progs")

    static func object(_ source: URL) throws -> Object {
        let url = try CompiledFixtures.object(
            compiling: source, clang: clang,
            arguments: ["-O2", "-g", "-target", "bpf", "-mcpu=v3", "-Wall", "-Werror",
                        "-I/usr/include/x86_64-linux-gnu", "-I\(progsDirectory.path)/include"],
            folder: "verifier-programs")
        return try Object(bytes: [UInt8](try Data(contentsOf: url)), name: source.deletingPathExtension().lastPathComponent)
    }

    /// The BTF of progs/host_types.c.
    static func hostBTF() throws -> BTF {
        try #require(try object(progsDirectory.appendingPathComponent("host_types.c")).btf,
                     "progs/host_types.c compiled without BTF")
    }
}

/// Verifies one assembly case: its verdict.
func verdict(of testCase: VerifierCase, hostBTF: BTF?) throws -> Verdict {
    let instructions = try Assembler.assemble(testCase.source)
    let program: Program
    do {
        program = try Program(instructions: instructions)
    } catch {
        return .rejected(error.description)
    }
    let environment: VerificationEnvironment
    switch testCase.kind {
    case .memory(let type, let size):
        environment = VerificationEnvironment(kind: .testRun(type: type), context: .memory(size: size),
                                              maps: testCase.maps)
    case .xdp:
        environment = VerificationEnvironment(kind: .testRun(type: "xdp"), context: .xdp, maps: testCase.maps)
    case .hook(let kind):
        let btf = try #require(hostBTF, "a hook case needs the host's BTF")
        let prototype = try HookPrototype(function: try #require(kind.hook), in: btf)
        environment = VerificationEnvironment(kind: kind, context: .hookArguments(prototype), maps: testCase.maps)
    }
    do {
        _ = try Verifier().verify(program, in: environment)
        return .accepted
    } catch {
        return .rejected(error.description)
    }
}

@Suite("Verifier cases")
struct VerifierCaseTests {
    @Test("Every case file parses")
    func corpusParses() {
        #expect(CaseCorpus.loaded.errors.map(\.description) == [])
        #expect(!CaseCorpus.cases.isEmpty, "no cases under \(CaseCorpus.directory.path)")
    }

    @Test("Assembly cases over memory and xdp contexts", arguments: CaseCorpus.cases.filter { $0.kind.hook == nil })
    func contextCase(_ testCase: VerifierCase) throws {
        let result = try verdict(of: testCase, hostBTF: nil)
        #expect(result.satisfies(testCase.expectation), "expected \(testCase.expectation), \(result)")
    }

    @Test("Assembly cases of hook kinds", .enabled(if: CompiledPrograms.isAvailable, CompiledPrograms.unavailable),
          arguments: CaseCorpus.cases.filter { $0.kind.hook != nil })
    func hookCase(_ testCase: VerifierCase) throws {
        let result = try verdict(of: testCase, hostBTF: try CompiledPrograms.hostBTF())
        #expect(result.satisfies(testCase.expectation), "expected \(testCase.expectation), \(result)")
    }

    @Test("C programs", .enabled(if: CompiledPrograms.isAvailable, CompiledPrograms.unavailable),
          arguments: CProgramCase.all.cases)
    func cProgram(_ testCase: CProgramCase) throws {
        let hostBTF = try CompiledPrograms.hostBTF()
        let loaded = try LoadedObject(try CompiledPrograms.object(testCase.source))
        try loaded.load(targetBTF: hostBTF)
        let program = try loaded.program(named: testCase.program)
        let result: Verdict
        do {
            _ = try program.verify(contextSize: 64, hostBTF: hostBTF)
            result = .accepted
        } catch {
            result = .rejected(error.description)
        }
        #expect(result.satisfies(testCase.expectation), "expected \(testCase.expectation), \(result)")
    }

    @Test("Every C program states its expectations")
    func cProgramsParse() {
        #expect(CProgramCase.all.errors.map(\.description) == [])
    }
}

/// One program of a C file under `Programs/`, with the verdict a `// expect NAME: accept` or
/// `// expect NAME: reject MESSAGE` comment of that file gives it.
struct CProgramCase: Sendable, CustomTestStringConvertible {
    let source: URL
    let program: String
    let expectation: Expectation

    var testDescription: String { "\(source.lastPathComponent) \(program)" }

    /// The expectations of every `Programs/*.c`, and the lines that could not be read.
    static let all: (cases: [CProgramCase], errors: [CaseFileError]) = {
        var cases: [CProgramCase] = []
        var errors: [CaseFileError] = []
        let directory = CompiledPrograms.programsDirectory
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".c") }.sorted()
        for name in names {
            let source = directory.appendingPathComponent(name)
            guard let text = try? String(contentsOf: source, encoding: .utf8) else {
                errors.append(CaseFileError(file: name, line: 0, reason: "cannot read"))
                continue
            }
            var found = 0
            for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.hasPrefix("// expect ") {
                let body = line.dropFirst("// expect ".count)
                guard let colon = body.firstIndex(of: ":") else {
                    errors.append(CaseFileError(file: name, line: offset + 1, reason: "expected `// expect NAME: VERDICT`"))
                    continue
                }
                let verdict = body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                let expectation: Expectation
                if verdict == "accept" {
                    expectation = .accept
                } else if verdict.hasPrefix("reject ") {
                    expectation = .reject(String(verdict.dropFirst(7)))
                } else {
                    errors.append(CaseFileError(file: name, line: offset + 1, reason: "expected accept or reject MESSAGE, found '\(verdict)'"))
                    continue
                }
                cases.append(CProgramCase(source: source, program: String(body[..<colon]), expectation: expectation))
                found += 1
            }
            if found == 0 { errors.append(CaseFileError(file: name, line: 0, reason: "no `// expect NAME: VERDICT` line")) }
        }
        return (cases, errors)
    }()
}
