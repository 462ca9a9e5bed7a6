import ArgumentParser
import BPFVM
import Conformance

/// `bpfrun run`: run a program in the interpreter and print r0 and the run time.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a BPF program in the interpreter.",
        discussion: """
            r1 points to the input memory (or is 0 without one) and r2 holds its length, as in \
            bpf_conformance. Helper 5 is the conformance suite's unwind helper. Without --checked the \
            program runs in trusted mode, with no safety checks.
            """)

    @Argument(help: "The program: a raw file of 8-byte slots, or bpf_conformance assembly text.")
    var file: String

    @Option(help: "Input memory as hex bytes, e.g. \"01 02 ff\".")
    var mem: String?

    @Option(help: "Read the input memory from this file.")
    var memFile: String?

    @Flag(help: "Check every memory access, register read and the instruction budget.")
    var checked = false

    /// A duration as ns, µs or ms with three significant digits.
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        func rounded(_ value: Double) -> String {
            let text = String(Double(Int((value * 10).rounded())) / 10)
            return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        }
        if nanoseconds < 1e3 { return "\(rounded(nanoseconds)) ns" }
        if nanoseconds < 1e6 { return "\(rounded(nanoseconds / 1e3)) µs" }
        return "\(rounded(nanoseconds / 1e6)) ms"
    }

    func validate() throws {
        if mem != nil && memFile != nil { throw ValidationError("give either --mem or --mem-file, not both") }
    }

    func run() throws {
        let program = try InputFiles.program(at: file)
        var memory: [UInt8] = []
        if let mem { memory = try InputFiles.hexBytes(mem) }
        if let memFile { memory = try InputFiles.bytes(at: memFile) }
        let interpreter: Interpreter
        do {
            interpreter = try Interpreter(program: program, helpers: ConformanceRunner.helpers)
        } catch {
            throw CommandError("\(file): \(error)")
        }
        let checked = self.checked
        let clock = ContinuousClock()
        var result: Result<UInt64, ExecutionError> = .success(0)
        let elapsed = memory.withUnsafeMutableBytes { buffer in
            let input = buffer.count == 0 ? nil : buffer
            return clock.measure {
                result = Result { () throws(ExecutionError) -> UInt64 in
                    checked ? try interpreter.run(memory: input) : try interpreter.runTrusted(memory: input)
                }
            }
        }
        switch result {
        case .success(let r0):
            print("r0 = \(r0) (0x\(String(r0, radix: 16)))")
            print("time: \(Self.format(elapsed))")
        case .failure(let error):
            throw CommandError("\(file): trap at \(error)")
        }
    }
}
