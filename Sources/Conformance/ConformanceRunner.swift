import BPFVM

/// Runs bpf_conformance tests in the interpreter, in checked and then trusted mode.
///
/// A test passes only when both modes agree with its expectation. Trusted mode runs only after
/// checked mode has run the same input to completion without a trap, so an unsafe test program
/// can never corrupt the runner.
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

    /// An interpreter mode.
    public enum Mode: String, Sendable, CaseIterable {
        case checked, trusted
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
        let slots: [Instruction]
        if let raw = test.raw {
            slots = raw
        } else if let assembly = test.assembly {
            do {
                slots = try Assembler.assemble(assembly)
            } catch {
                return .failed(reason: "bad assembly: \(error)")
            }
        } else {
            return .failed(reason: "no program: the file has neither `-- asm` nor `-- raw`")
        }
        let outcome = execute(slots, memory: test.memory)
        guard let expectation = test.expectation else {
            let what = switch outcome {
            case .success(let value): "the program returned 0x\(hex(value))"
            case .failure(let error): error.message
            }
            return .failed(reason: "\(what), but the file has neither `-- result` nor a non-empty `-- error` to check")
        }
        switch (expectation, outcome) {
        case let (.result(expected), .success(actual)):
            return expected == actual
                ? .passed : .failed(reason: "r0 is 0x\(hex(actual)), expected 0x\(hex(expected))")
        case let (.result(expected), .failure(error)):
            return .failed(reason: "\(error.message) (expected r0 = 0x\(hex(expected)))")
        case let (.error(expected), .success(actual)):
            return .failed(reason: "the program returned 0x\(hex(actual)), expected the error \"\(expected)\"")
        case let (.error(expected), .failure(error)):
            return error.message.contains(expected)
                ? .passed : .failed(reason: "\(error.message) (expected the error \"\(expected)\")")
        }
    }

    /// Why a conformance program did not return a value.
    struct Failure: Error {
        let message: String
    }

    private func execute(_ slots: [Instruction], memory: [UInt8]) -> Result<UInt64, Failure> {
        let interpreter: Interpreter
        do {
            interpreter = try Interpreter(program: try Program(instructions: slots), helpers: Self.helpers)
        } catch let error as DecodeError {
            return .failure(Failure(message: "invalid program: \(error)"))
        } catch {
            return .failure(Failure(message: "cannot load: \(error)"))
        }
        var results: [(Mode, UInt64)] = []
        for mode in modes.sorted(by: { $0 == .checked && $1 == .trusted }) {
            var bytes = memory
            let result: Result<UInt64, ExecutionError> = bytes.withUnsafeMutableBytes { buffer in
                let input = buffer.count == 0 ? nil : buffer
                return Result { () throws(ExecutionError) -> UInt64 in
                    switch mode {
                    case .checked: try interpreter.run(memory: input)
                    case .trusted: try interpreter.runTrusted(memory: input)
                    }
                }
            }
            switch result {
            case .success(let value): results.append((mode, value))
            case .failure(let error): return .failure(Failure(message: "\(mode.rawValue) run trapped: \(error)"))
            }
        }
        guard let first = results.first else { return .failure(Failure(message: "no interpreter mode selected")) }
        if let disagreement = results.first(where: { $0.1 != first.1 }) {
            return .failure(Failure(message: "\(first.0.rawValue) mode returned 0x\(hex(first.1)) but "
                + "\(disagreement.0.rawValue) mode returned 0x\(hex(disagreement.1))"))
        }
        return .success(first.1)
    }
}

func hex(_ value: UInt64) -> String { String(value, radix: 16) }
