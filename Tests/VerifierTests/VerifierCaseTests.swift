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

    /// The verdict of one verification.
    init(verifying verify: () throws(VerifierError) -> VerifiedProgram) {
        do {
            _ = try verify()
            self = .accepted
        } catch {
            self = .rejected(error.description)
        }
    }

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
    // The corpus's programs are small: a budget of 32,000 instructions keeps a runaway
    // exploration (a known gap) from holding the suite up, and is above what its most
    // path-heavy case needs (twelve_diamonds_*: 20,482 here, 24,576 in the kernel).
    let options = VerifierOptions(instructionLimit: 32_000)
    return Verdict { () throws(VerifierError) in try Verifier(options: options).verify(program, in: environment) }
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
        try check(testCase, hostBTF: nil)
    }

    @Test("Assembly cases of hook kinds", .enabled(if: CompiledPrograms.isAvailable, CompiledPrograms.unavailable),
          arguments: CaseCorpus.cases.filter { $0.kind.hook != nil })
    func hookCase(_ testCase: VerifierCase) throws {
        try check(testCase, hostBTF: try CompiledPrograms.hostBTF())
    }

    /// The case's verdict against its expectation; a pending case must still be wrong.
    private func check(_ testCase: VerifierCase, hostBTF: BTF?) throws {
        let result = try verdict(of: testCase, hostBTF: hostBTF)
        guard let pending = testCase.pending else {
            #expect(result.satisfies(testCase.expectation), "expected \(testCase.expectation), \(result)")
            return
        }
        withKnownIssue("pending: \(pending)") {
            #expect(result.satisfies(testCase.expectation), "expected \(testCase.expectation), \(result)")
        }
    }

    @Test("C programs", .enabled(if: CompiledPrograms.isAvailable, CompiledPrograms.unavailable),
          arguments: CProgramCase.all.cases)
    func cProgram(_ testCase: CProgramCase) throws {
        let hostBTF = try CompiledPrograms.hostBTF()
        // As `bpfrun verify` does: CO-RE offsets from the program's own BTF (the same hooks.h),
        // hook contexts typed by the host's.
        let loaded = try LoadedObject(try CompiledPrograms.object(testCase.source))
        try loaded.load()
        let program = try loaded.program(named: testCase.program)
        let result = Verdict { () throws(VerifierError) in try program.verify(contextSize: 64, hostBTF: hostBTF) }
        #expect(result.satisfies(testCase.expectation), "expected \(testCase.expectation), \(result)")
    }

    @Test("Every C program states its expectations")
    func cProgramsParse() {
        #expect(CProgramCase.all.errors.map(\.description) == [])
    }
}
