import ArgumentParser
import BenchmarkWorkloads
#if canImport(Glibc)
import Glibc
#endif

/// `bpfrun bench`: the JIT and the interpreter (trusted and checked) against the same C
/// programs compiled natively with -O2, side by side in one process.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the JIT and the interpreter against the same C compiled natively, on eight programs.",
        discussion: """
            Each program of Sources/BenchmarkPrograms is built twice from one source: natively \
            into bpfrun, and for BPF by `make -C progs` (progs/build/bench). Prints per program \
            the time per run of each build, the ratios, the JIT's compile time per 100 BPF \
            instructions and its code size, then the geometric means. Build with -c release for \
            meaningful figures; each time is the fastest of many rounds.
            """)

    @Option(help: "The folder of the BPF builds of the benchmark programs.")
    var objects = "progs/build/bench"

    @Option(help: "Run only the program with this name (fnv1a, crc32, sort, divide, bits, matrix, histogram, random).")
    var filter: String?

    @Option(help: "Timing rounds per figure; the fastest counts.")
    var rounds = 100

    func validate() throws {
        if rounds < 1 { throw ValidationError("--rounds must be at least 1") }
    }

    func run() throws {
        let workloads: [Workload]
        do { workloads = try Workload.all(objects: objects) } catch { throw CommandError("\(error)") }
        let selected = workloads.filter { filter == nil || $0.name == filter }
        if selected.isEmpty { throw CommandError("no benchmark program named \(filter ?? "")") }
        #if DEBUG
        print("note: this is a debug build; use `swift build -c release` for real figures")
        #endif
        print("| program | insns | native ns | JIT ns | trusted ns | checked ns | JIT/native | trusted/native | checked/trusted | compile µs/100 insns | code bytes |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        var ratios: [[Double]] = Array(repeating: [], count: 4)
        for workload in selected {
            try checkAgreement(workload)
            let native = Timing.nanoseconds(rounds: rounds) { _ = workload.runNative() }
            let jit = try Timing.nanoseconds(rounds: rounds) { _ = try workload.runJIT() }
            let trusted = try Timing.nanoseconds(rounds: max(1, rounds / 4)) { _ = try workload.runInterpreter() }
            let checked = try Timing.nanoseconds(rounds: max(1, rounds / 4)) { _ = try workload.runChecked() }
            let compile = try Timing.nanoseconds(rounds: max(1, rounds / 4)) { _ = try workload.compile() }
            let perHundred = compile / 1000 / (Double(workload.instructionCount) / 100)
            let row = [jit / native, trusted / native, checked / trusted, perHundred]
            for (index, value) in row.enumerated() { ratios[index].append(value) }
            print("| \(workload.name) | \(workload.instructionCount) | \(fixed(native, 0)) | \(fixed(jit, 0)) | "
                + "\(fixed(trusted, 0)) | \(fixed(checked, 0)) | \(fixed(row[0], 2)) | \(fixed(row[1], 1)) | "
                + "\(fixed(row[2], 2)) | \(fixed(row[3], 1)) | \(workload.compiled.codeSize) |")
        }
        let means = ratios.map(geometricMean)
        print("| geometric mean | | | | | | \(fixed(means[0], 2)) | \(fixed(means[1], 1)) | \(fixed(means[2], 2)) | "
            + "\(fixed(means[3], 1)) | |")
    }

    /// Every engine must compute what the native build computes (the programs that draw random
    /// numbers aside), before any of them is timed.
    private func checkAgreement(_ workload: Workload) throws {
        guard workload.isDeterministic else { return }
        var results: [(String, UInt64)] = []
        let runs: [(String, () throws -> UInt64)] = [
            ("native", { workload.runNative() }), ("JIT", workload.runJIT),
            ("trusted", workload.runInterpreter), ("checked", workload.runChecked),
        ]
        for (engine, run) in runs {
            try workload.resetMaps()
            results.append((engine, try run()))
        }
        try workload.resetMaps()
        if Set(results.map(\.1)).count != 1 {
            let listed = results.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
            throw CommandError("\(workload.name): the builds disagree (\(listed))")
        }
    }

    private func geometricMean(_ values: [Double]) -> Double {
        var logSum = 0.0
        for value in values { logSum += log(value) }
        return exp(logSum / Double(values.count))
    }
}
