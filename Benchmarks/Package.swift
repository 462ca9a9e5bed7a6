// swift-tools-version: 6.1
import PackageDescription

// The package-benchmark harness, a package of its own so that the root package's `swift build`
// and `swift test` never build it or its dependencies. `swift package benchmark` runs the suite
// (Benchmarks/JITBench) over the programs of the root package's BenchmarkWorkloads, whose summary
// table (JIT and interpreter against native C, compile time, code size) `bpfrun bench` prints.
let package = Package(
    name: "Benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "bpfrun", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "JITBench",
            dependencies: [
                .product(name: "BenchmarkWorkloads", package: "bpfrun"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/JITBench",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
