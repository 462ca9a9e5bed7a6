import BPFVM
import JIT
import Verifier

/// Runs bpf_conformance tests in the interpreter (checked and trusted mode) and as JIT-compiled
/// code.
///
/// A test passes only when every mode run agrees with its expectation. Trusted mode and the JIT
/// run only after checked mode has run the same input to completion without a trap, so an
/// unsafe test program can never corrupt the runner. The suite tests instruction semantics, not
/// safety, and a few of its programs are ones the verifier refuses (shifts by immediate counts
/// past the width, which the kernel refuses too): behind that gate, trusted mode runs them through
/// the package-level entry, and the JIT compiles them through its own; what the verifier accepts
/// goes through the public API.
public struct ConformanceRunner: Sendable {
    /// The helpers a conformance program may call: id 5 is the suite's unwind helper, which
    /// returns its first argument and stops the program when that is 0.
    public static let helpers: HelperTable = {
        var table = HelperTable([Helper(id: 5, name: "unwind", function: { r1, _, _, _, _, _ in r1 })])
        table.unwindHelperID = 5
        return table
    }()

    /// Which interpreter modes to run.
    public var modes: [Mode]

    /// An execution mode: the interpreter, checked or trusted, or JIT-compiled code.
    public enum Mode: String, Sendable, CaseIterable {
        case checked, trusted, jit
    }

    public init(modes: [Mode] = Mode.allCases) {
        self.modes = modes
    }

    /// The verdict on one test.
    public enum Verdict: Hashable, Sendable {
        case passed
        case failed(reason: String)

        public var isPass: Bool { self == .passed }
    }

    /// Runs one test.
    public func run(_ test: ConformanceTest) -> Verdict {
        guard let failure = evaluate(test) else { return .passed }
        return .failed(reason: failure.message)
    }

    /// Runs one test and returns why it failed, or nil when it passed.
    public func evaluate(_ test: ConformanceTest) -> Failure? {
        let slots: [Instruction]
        if let raw = test.raw {
            slots = raw
        } else if let assembly = test.assembly {
            do throws(AssemblyError) {
                slots = try Assembler.assemble(assembly)
            } catch {
                return .badAssembly(error)
            }
        } else {
            return .noProgram
        }
        let outcome = execute(slots, memory: test.memory)
        guard let expectation = test.expectation else {
            return .noExpectation(outcome: outcome)
        }
        switch (expectation, outcome) {
        case let (.result(expected), .success(actual)):
            return expected == actual ? nil : .wrongResult(actual: actual, expected: expected)
        case let (.result(expected), .failure(failure)):
            return .failedExpectingResult(failure, expected: expected)
        case let (.error(expected), .success(actual)):
            return .returnedExpectingError(actual: actual, expected: expected)
        case let (.error(expected), .failure(failure)):
            return failure.message.contains(expected) ? nil : .wrongError(failure, expected: expected)
        }
    }

    private func execute(_ slots: [Instruction], memory: [UInt8]) -> Result<UInt64, RunFailure> {
        let program: Program
        do throws(DecodeError) {
            program = try Program(instructions: slots)
        } catch {
            return .failure(.invalidProgram(error))
        }
        let interpreter: Interpreter
        do throws(LoadError) {
            interpreter = try Interpreter(program: program, helpers: Self.helpers)
        } catch {
            return .failure(.cannotLoad(error))
        }
        var results: [(Mode, UInt64)] = []
        let environment = VerificationEnvironment(context: .memory(size: memory.count, lengthInR2: true),
                                                  helpers: Self.helpers)
        // Checked mode runs first, always (when not asked for, only as the gate to the others).
        for mode in Mode.allCases where mode == .checked || modes.contains(mode) {
            let isGate = !modes.contains(mode)
            var compiled: CompiledProgram?
            switch mode {
            case .checked:
                break
            case .trusted:
                break
            case .jit:
                do throws(JITError) {
                    if let verified = try? Verifier().verify(program, in: environment) {
                        compiled = try JITCompiler().compile(verified)
                    } else {
                        compiled = try JITCompiler().compileUnverified(program, helpers: Self.helpers)
                    }
                } catch {
                    return .failure(.cannotCompile(error))
                }
            }
            var bytes = memory
            let result: Result<UInt64, ExecutionError> = bytes.withUnsafeMutableBytes { buffer in
                let input = buffer.count == 0 ? nil : buffer
                return Result { () throws(ExecutionError) -> UInt64 in
                    switch mode {
                    case .checked: try interpreter.run(memory: input)
                    case .trusted: try interpreter.runTrusted(memory: input)
                    case .jit: try compiled!.run(memory: input)
                    }
                }
            }
            switch result {
            case .success(let value): if !isGate { results.append((mode, value)) }
            case .failure(let error): return .failure(.trapped(mode, error))
            }
        }
        guard let first = results.first else { return .failure(.noMode) }
        if let disagreement = results.first(where: { $0.1 != first.1 }) {
            return .failure(.modesDisagree(first: first.0, firstValue: first.1,
                                           other: disagreement.0, otherValue: disagreement.1))
        }
        return .success(first.1)
    }
}

func hex(_ value: UInt64) -> String { String(value, radix: 16) }
