#if canImport(Glibc)
import Glibc
#endif
import Workloads

// The summary table of the JIT against native C (the same source compiled with -O2) and the
// interpreter: time per run, the ratios, compile time per 100 BPF instructions and code size.

func column(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }

#if DEBUG
print("note: a debug build; use `swift run -c release BenchmarkTable` for real figures")
#endif
let workloads = try Workload.all()
print("| program | insns | native ns | JIT ns | interp ns | JIT/native | interp/native | compile µs/100 insns | code bytes |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
var jitRatios: [Double] = [], interpreterRatios: [Double] = [], compileTimes: [Double] = []
for workload in workloads {
    if workload.isDeterministic {
        try workload.resetMaps()
        let native = workload.runNative()
        try workload.resetMaps()
        let jit = try workload.runJIT()
        try workload.resetMaps()
        let interpreted = try workload.runInterpreter()
        guard native == jit && jit == interpreted else {
            fatalError("\(workload.name): native \(native), JIT \(jit), interpreter \(interpreted) disagree")
        }
    }
    let native = Timing.nanoseconds { _ = workload.runNative() }
    let jit = try Timing.nanoseconds { _ = try workload.runJIT() }
    let interpreter = try Timing.nanoseconds(rounds: 50) { _ = try workload.runInterpreter() }
    let compile = try Timing.nanoseconds(rounds: 50) { _ = try workload.compile() }
    let perHundred = compile / 1000 / (Double(workload.instructionCount) / 100)
    jitRatios.append(jit / native)
    interpreterRatios.append(interpreter / native)
    compileTimes.append(perHundred)
    print("| \(workload.name) | \(workload.instructionCount) | \(fixed(native, 0)) | \(fixed(jit, 0)) | \(fixed(interpreter, 0)) | "
        + "\(fixed(jit / native, 2)) | \(fixed(interpreter / native, 1)) | \(fixed(perHundred, 1)) | \(workload.compiled.codeSize) |")
}
func geometricMean(_ values: [Double]) -> Double {
    exp(values.map { log($0) }.reduce(0, +) / Double(values.count))
}
print("| geometric mean | | | | | \(fixed(geometricMean(jitRatios), 2)) | \(fixed(geometricMean(interpreterRatios), 1)) | \(fixed(geometricMean(compileTimes), 1)) | |")
