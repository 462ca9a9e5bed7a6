import BPFVM
import JIT

extension ConformanceRunner {
    /// Why a test failed, as a typed value: what `run(_:)` reports as text, for callers that must
    /// tell one failure from another (the suite's negative files each fail for their own reason).
    public enum Failure: Hashable, Sendable, CustomStringConvertible {
        /// The file has neither `-- asm` nor `-- raw`.
        case noProgram
        /// The `-- asm` section does not assemble.
        case badAssembly(AssemblyError)
        /// The file has neither `-- result` nor a non-empty `-- error`; `outcome` is what the program did.
        case noExpectation(outcome: Result<UInt64, RunFailure>)
        /// The program returned `actual` where the file expects `expected` in r0.
        case wrongResult(actual: UInt64, expected: UInt64)
        /// The file expects r0 to be `expected`, but the program did not return.
        case failedExpectingResult(RunFailure, expected: UInt64)
        /// The file expects an error containing `expected`, but the program returned `actual`.
        case returnedExpectingError(actual: UInt64, expected: String)
        /// The program failed, but not with an error containing `expected`.
        case wrongError(RunFailure, expected: String)

        /// The reason `run(_:)` gives in `Verdict.failed`.
        public var message: String {
            switch self {
            case .noProgram:
                return "no program: the file has neither `-- asm` nor `-- raw`"
            case .badAssembly(let error):
                return "bad assembly: \(error)"
            case .noExpectation(let outcome):
                let what = switch outcome {
                case .success(let value): "the program returned 0x\(hex(value))"
                case .failure(let failure): failure.message
                }
                return "\(what), but the file has neither `-- result` nor a non-empty `-- error` to check"
            case let .wrongResult(actual, expected):
                return "r0 is 0x\(hex(actual)), expected 0x\(hex(expected))"
            case let .failedExpectingResult(failure, expected):
                return "\(failure.message) (expected r0 = 0x\(hex(expected)))"
            case let .returnedExpectingError(actual, expected):
                return "the program returned 0x\(hex(actual)), expected the error \"\(expected)\""
            case let .wrongError(failure, expected):
                return "\(failure.message) (expected the error \"\(expected)\")"
            }
        }

        public var description: String { message }
    }

    /// Why a conformance program did not return a value.
    public enum RunFailure: Error, Hashable, Sendable, CustomStringConvertible {
        /// The slots are not a valid program.
        case invalidProgram(DecodeError)
        /// The program cannot be bound to the conformance helpers.
        case cannotLoad(LoadError)
        /// The run in `mode` trapped.
        case trapped(Mode, ExecutionError)
        /// Two modes returned different values (`first` is the mode that ran first).
        case modesDisagree(first: Mode, firstValue: UInt64, other: Mode, otherValue: UInt64)
        /// The runner was given no mode to run.
        case noMode
        /// The JIT could not compile the program.
        case cannotCompile(JITError)

        public var message: String {
            switch self {
            case .invalidProgram(let error):
                "invalid program: \(error)"
            case .cannotLoad(let error):
                "cannot load: \(error)"
            case let .trapped(mode, error):
                "\(mode.rawValue) run trapped: \(error)"
            case let .modesDisagree(first, firstValue, other, otherValue):
                "\(first.rawValue) mode returned 0x\(hex(firstValue)) but \(other.rawValue) mode returned 0x\(hex(otherValue))"
            case .noMode:
                "no execution mode selected"
            case .cannotCompile(let error):
                "the JIT cannot compile it: \(error)"
            }
        }

        public var description: String { message }
    }
}
