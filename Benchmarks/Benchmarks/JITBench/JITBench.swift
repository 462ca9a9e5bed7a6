import Benchmark
import Workloads

/// package-benchmark's view of the same programs: for each, the native build, the JIT, the
/// interpreter and a compilation, as separate benchmarks (compare their wall clocks; the
/// BenchmarkTable executable prints the ratios).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock], maxDuration: .seconds(1))
    let workloads = (try? Workload.all()) ?? []
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
