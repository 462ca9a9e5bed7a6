import BPFVM
import Foundation
import Testing
import TestSupport
import Verifier
@testable import JIT

/// The differential fuzzer: random verified programs (`RandomProgram`) run in the interpreter
/// (checked mode, the reference) and as compiled code on random contexts must agree on r0, the
/// context memory afterwards, and traps. `JIT_FUZZ_PROGRAMS` sets how many verified programs
/// (100,000 by default; 10^6 for a long local run), `JIT_FUZZ_SEED` the first seed.
@Suite("Differential fuzzing: interpreter against JIT")
struct DifferentialFuzzTests {
    static let helpers: HelperTable = {
        var table = HelperTable([
            Helper(id: RandomProgram.mixHelperID, name: "mix", arguments: [.anything, .anything, .anything, .anything, .anything]) {
                a, b, c, d, e, _ in (a &* 0x9e37_79b9_7f4a_7c15) ^ (b << 7) ^ (c >> 3) &+ d &- (e ^ 0x55)
            },
        ])
        table.register(StandardHelpers.table[RandomProgram.loopHelperID]!)
        return table
    }()

    static var programCount: Int {
        ProcessInfo.processInfo.environment["JIT_FUZZ_PROGRAMS"].flatMap(Int.init) ?? 100_000
    }

    static var firstSeed: UInt64 {
        ProcessInfo.processInfo.environment["JIT_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5eed
    }

    /// One shard of the programs (shards run in parallel).
    static let shards = Array(0..<8)

    @Test("random verified programs agree on r0, memory and traps", arguments: shards)
    func agree(shard: Int) throws {
        let environment = VerificationEnvironment(context: .memory(size: RandomProgram.contextSize, lengthInR2: true),
                                                  helpers: Self.helpers)
        let wanted = (Self.programCount + Self.shards.count - 1) / Self.shards.count
        var verified = 0, rejected = 0, mismatches = 0
        var seed = Self.firstSeed &+ UInt64(shard) << 48
        while verified < wanted {
            seed &+= 1
            let generated = RandomProgram(seed: seed)
            let program = try Program(instructions: generated.instructions)
            guard let proven = try? Verifier().verify(program, in: environment) else {
                rejected += 1
                continue
            }
            verified += 1
            let interpreter = try Interpreter(program: program, helpers: Self.helpers)
            let compiled = try JITCompiler().compile(proven)
            var inputs = SplitMix64(seed: seed ^ 0xc0ff_ee)
            for _ in 0..<2 {
                let context = (0..<RandomProgram.contextSize).map { _ in UInt8(truncatingIfNeeded: inputs.next()) }
                var reference = context, jitted = context
                let expected = reference.withUnsafeMutableBytes { buffer in
                    Result { () throws(ExecutionError) -> UInt64 in try interpreter.run(memory: buffer) }
                }
                let actual = jitted.withUnsafeMutableBytes { buffer in
                    Result { () throws(ExecutionError) -> UInt64 in try compiled.run(memory: buffer) }
                }
                if expected != actual || reference != jitted {
                    mismatches += 1
                    if mismatches <= 3 {
                        Issue.record("""
                            seed \(seed): interpreter \(expected) JIT \(actual), memory \(reference == jitted ? "equal" : "differs")
                            \(ConformanceSyntax.listing(of: program))
                            """)
                    }
                }
            }
        }
        #expect(mismatches == 0)
        // The generator must mostly produce programs the verifier accepts, or the fuzzer tests little.
        #expect(rejected < verified, "the verifier rejected \(rejected) of \(rejected + verified) programs")
    }
}
