import Benchmark
import BenchmarkWorkloads

/// package-benchmark's view of the same programs: for each, the native build, the JIT, the
/// interpreter and a compilation, as separate benchmarks (compare their wall clocks; `bpfrun
/// bench` prints the ratios). The BPF objects come from `make -C progs` (progs/build/bench).
/// progs/build/bench of the repository this file belongs to.
let objects: String = {
    var path = #filePath
    for _ in 0..<4 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path + "/progs/build/bench"
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock], maxDuration: .seconds(1))
    let workloads: [Workload]
    do { workloads = try Workload.all(objects: objects) } catch { fatalError("\(error)") }
    for workload in workloads {
        Benchmark("\(workload.name) native") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(workload.runNative()) }
        }
        Benchmark("\(workload.name) jit") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try workload.runJIT()) }
        }
        Benchmark("\(workload.name) interpreter") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try workload.runInterpreter()) }
        }
        Benchmark("\(workload.name) compile") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try workload.compile()) }
        }
    }
}
