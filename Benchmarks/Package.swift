// swift-tools-version: 6.1
import PackageDescription

// The package-benchmark harness, a package of its own so that the root package's `swift build`
// and `swift test` never build it or its dependencies. `swift package benchmark` runs the suite
// (Benchmarks/JITBench) over the programs of the root package's BenchmarkWorkloads, whose summary
// table (JIT and interpreter against native C, compile time, code size) `bpfrun bench` prints;
// `swift run -c release HookBench` prints the hook benchmark's table.
let package = Package(
    name: "Benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "bpfrun", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The hook benchmark: the host's hooks and timing loops in C (-O2), the loops again with
        // -mretpoline (indirect calls through retpoline thunks, as in kernels with Spectre
        // mitigations), and the table (`swift run -c release HookBench`).
        .target(name: "HookHost", dependencies: [.product(name: "CAttach", package: "bpfrun")],
                cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "HookLoopsRetpoline", dependencies: ["HookHost"], cSettings: [.unsafeFlags(["-O2", "-mretpoline"])]),
        .executableTarget(
            name: "HookBench",
            dependencies: ["HookHost", "HookLoopsRetpoline",
                           .product(name: "BenchmarkWorkloads", package: "bpfrun"),
                           .product(name: "Attach", package: "bpfrun"), .product(name: "BPFVM", package: "bpfrun")],
            exclude: ["Programs"]
        ),
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
