import ArgumentParser
import BPFVM
import Verifier
import Conformance

/// `bpfrun bench`: interpreter speed against the same computation in native Swift.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the interpreter (trusted and checked) against native Swift on three programs.",
        discussion: "Build with -c release for meaningful figures. Prints the best of --repetitions runs.")

    @Option(help: "Runs per measurement; the fastest counts.")
    var repetitions = 5

    @Option(help: "Run only the benchmark with this name (alu-loop, mix-loop, memory-loop, call-loop).")
    var filter: String?

    @Flag(help: "Skip trying to verify each program first (most of the command's time; the figures do not depend on it).")
    var skipVerification = false

    func validate() throws {
        if repetitions < 1 { throw ValidationError("--repetitions must be at least 1") }
        if let filter, !BenchmarkProgram.all.contains(where: { $0.name == filter }) {
            throw ValidationError("no benchmark named \(filter)")
        }
    }

    func run() throws {
        #if DEBUG
        print("note: this is a debug build; use `swift run -c release bpfrun bench` for real figures")
        #endif
        print("program       insns/run  trusted ns/insn  checked ns/insn  trusted ms  native ms  trusted/native")
        for benchmark in BenchmarkProgram.all where filter == nil || benchmark.name == filter {
            try measure(benchmark)
        }
    }

    private func measure(_ benchmark: BenchmarkProgram) throws {
        let program = try Program(instructions: Assembler.assemble(benchmark.assembly))
        let interpreter = try Interpreter(program: program, helpers: ConformanceRunner.helpers)
        var memory = benchmark.memory
        // These fixed in-tree programs loop longer than path-by-path verification can follow
        // (loop summaries are still to come); say so rather than hide it.
        if !skipVerification {
            let environment = VerificationEnvironment(context: .memory(size: memory.count, lengthInR2: true),
                                                      helpers: ConformanceRunner.helpers)
            do { _ = try Verifier().verify(program, in: environment) } catch {
                print("note: \(benchmark.name) is not verified (\(error.message)); its trusted figures are measured all the same")
            }
        }
        let expected = benchmark.native(memory)
        let (executed, trusted, checked) = try memory.withUnsafeMutableBytes { buffer throws in
            let input = buffer.count == 0 ? nil : buffer
            let arguments: [UInt64] = input.map { [UInt64(UInt(bitPattern: $0.baseAddress)), UInt64($0.count)] } ?? [0, 0]
            let regions = input.map { [MemoryRegion($0)] } ?? []
            let (result, executed) = try interpreter.runCounting(arguments: arguments, regions: regions)
            guard result == expected else {
                throw CommandError("\(benchmark.name): the program returned \(result), native Swift \(expected)")
            }
            let trusted = try best { _ = try interpreter.runTrusted(arguments: arguments) }
            let checked = try best { _ = try interpreter.run(arguments: arguments, regions: regions) }
            return (executed, trusted, checked)
        }
        let native = try best { _ = opaque(benchmark.native(memory)) }
        func column(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - text.count)) + text
        }
        func fixed(_ value: Double, _ digits: Int) -> String {
            var scale = 1.0
            for _ in 0..<digits { scale *= 10 }
            let scaled = Int((value * scale).rounded())
            let whole = scaled / Int(scale)
            let fraction = String(scaled % Int(scale))
            return digits == 0 ? "\(whole)" : "\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        print(benchmark.name.padding(12) + column("\(executed)", 11)
            + column(fixed(trusted / Double(executed), 2), 17) + column(fixed(checked / Double(executed), 2), 17)
            + column(fixed(trusted / 1e6, 2), 12) + column(fixed(native / 1e6, 2), 11)
            + column(fixed(trusted / native, 1) + "x", 16))
    }

    /// The fastest of `repetitions` runs of `body`, in nanoseconds.
    private func best(_ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        var fastest = Double.infinity
        for _ in 0..<repetitions {
            let elapsed = try clock.measure(body)
            let (seconds, attoseconds) = elapsed.components
            fastest = min(fastest, Double(seconds) * 1e9 + Double(attoseconds) / 1e9)
        }
        return fastest
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
