import Foundation
import Testing
import TestSupport
import BPFVM
import Verifier

/// Every program of the suite that loads here is proven safe by the verifier (so that it runs
/// unchecked), relocated against the recent kernel, except the listed refusals; `bpfrun run`
/// verifies each one before running it.
@Suite("Compatibility suite: verification", .enabled(if: CompatSuite.isBuilt, CompatSuite.skipReason))
struct CompatVerificationTests {
    /// Every program that loads here, as `object/program`.
    static let programs: [String] = CompatSuite.names.flatMap { name in
        ((try? CompatSuite.object(name))?.programs ?? []).map { "\(name)/\($0.name)" }
    }.filter { CompatSuite.kernelOnlyPrograms[$0] == nil }

    /// A context of 256 zero bytes, larger than every context of the suite.
    static let contextSize = 256

    /// The verdict on `path` (`object/program`); the one refused for its size is verified with a
    /// lower instruction limit, which it reaches all the same (a debug build takes minutes for 10^6).
    static func verdict(_ path: String) throws -> Result<VerifiedProgram, VerifierError> {
        let parts = path.split(separator: "/").map(String.init)
        let kernel: BTF = try #require(CompatSuite.newKernel, "the compat target kernels are not built")
        let object = try LoadedObject(CompatSuite.object(parts[0]))
        try object.load(programs: [parts[1]], targetBTF: kernel)
        let program = try object.program(named: parts[1])
        let limit = CompatSuite.verifierRefusals[path]?.contains("too large") == true ? 20_000 : 1_000_000
        return Result { () throws(VerifierError) in
            try program.verify(contextSize: contextSize, options: VerifierOptions(instructionLimit: limit))
        }
    }

    @Test("the verifier accepts every runnable program, but the listed ones", arguments: programs)
    func verify(_ path: String) throws {
        switch (try Self.verdict(path), CompatSuite.verifierRefusals[path]) {
        case (.success, nil):
            break
        case (.success, let expected?):
            Issue.record("accepted, but listed as refused with '\(expected)'")
        case (.failure(let error), nil):
            Issue.record("rejected: \(error)")
        case (.failure(let error), let expected?):
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test("bpfrun run verifies each program, then runs it unchecked", .enabled(if: Tools.isBuilt, "bpfrun is not built"),
          arguments: programs.filter { CompatSuite.verifierRefusals[$0] == nil })
    func run(_ path: String) throws {
        let parts = path.split(separator: "/").map(String.init)
        let result = try Tools.bpfrun(["run", CompatSuite.url(parts[0]).path, "--prog", parts[1],
                                       "--target-btf", CompatCommandTests.target,
                                       "--mem", String(repeating: "00", count: Self.contextSize)])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("r0 = "), "\(result.stdout)")
    }
}
