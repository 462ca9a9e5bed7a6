import BPFVM
import Foundation
import Testing
import TestSupport
import Verifier

/// The soundness fuzz: random programs (`RandomProgram`) are verified, and every one the
/// verifier accepts runs in checked mode on random contexts, where it must never trap. A trap
/// is a program the verifier let through although some run of it is unsafe. 10,000 programs by
/// default; `VERIFIER_FUZZ_PROGRAMS=N` runs N (and `VERIFIER_FUZZ_SEED=S` starts at seed S).
@Suite("Verifier soundness fuzz")
struct SoundnessFuzzTests {
    static let programs = ProcessInfo.processInfo.environment["VERIFIER_FUZZ_PROGRAMS"].flatMap(Int.init) ?? 10_000
    static let firstSeed = ProcessInfo.processInfo.environment["VERIFIER_FUZZ_SEED"].flatMap(UInt64.init) ?? 1
    static let runsPerProgram = 8
    static let contextSize = 64

    @Test("accepted random programs never trap in checked mode")
    func acceptedProgramsNeverTrap() throws {
        let environment = VerificationEnvironment(context: .memory(size: Self.contextSize))
        let verifier = Verifier(options: VerifierOptions(instructionLimit: 100_000))
        var accepted = 0, runs = 0
        var escapes: [String] = []
        for seed in Self.firstSeed..<(Self.firstSeed + UInt64(Self.programs)) {
            let source = RandomProgram(seed: seed).source
            let program = try Program(instructions: Assembler.assemble(source))
            guard (try? verifier.verify(program, in: environment)) != nil else { continue }
            accepted += 1
            let interpreter = try Interpreter(program: program, helpers: environment.helpers)
            var random = SplitMix64(seed: seed ^ 0x5eed)
            for _ in 0..<Self.runsPerProgram {
                var context = Self.context(&random)
                do {
                    _ = try context.withUnsafeMutableBytes { buffer throws(ExecutionError) in
                        try interpreter.run(memory: buffer)
                    }
                    runs += 1
                } catch {
                    escapes.append("seed \(seed): \(error)\n\(source)")
                    break
                }
            }
            if escapes.count >= 3 { break }
        }
        #expect(escapes.isEmpty, "accepted programs that trap:\n\(escapes.joined(separator: "\n\n"))")
        // The generator must keep producing programs worth running: a good share accepted.
        #expect(accepted * 5 >= Self.programs, "only \(accepted) of \(Self.programs) random programs verified")
        print("soundness fuzz: \(Self.programs) programs, \(accepted) accepted, \(runs) checked runs, \(escapes.count) escapes")
    }

    /// A context of 8-byte fields, each a number near an edge (0, 1, a small number, a mask,
    /// the context size, -1) or any number.
    static func context(_ random: inout SplitMix64) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<(contextSize / 8) {
            let field: UInt64 = switch random.below(8) {
            case 0: 0
            case 1: 1
            case 2: UInt64(random.below(16))
            case 3: UInt64(random.below(64))
            case 4: 63
            case 5: 64
            case 6: .max
            default: random.next()
            }
            withUnsafeBytes(of: field.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }
}
