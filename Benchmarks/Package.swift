// swift-tools-version: 6.1
import PackageDescription

// The benchmark harness, a package of its own so that the root package's `swift build` and
// `swift test` never build it or its dependencies. `swift package benchmark` runs the
// package-benchmark suite (Benchmarks/JITBench); `swift run -c release BenchmarkTable` prints
// the summary table (JIT and interpreter against native C, compile time, code size).
let package = Package(
    name: "Benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "bpfrun", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The benchmark programs, written once in C: compiled here natively with -O2, and for
        // BPF by `Workloads` from the same files.
        .target(name: "NativePrograms", cSettings: [.unsafeFlags(["-O2"])]),
        // Builds, loads, verifies and compiles the BPF programs; runs every engine.
        .target(
            name: "Workloads",
            dependencies: [
                "NativePrograms",
                .product(name: "BPFVM", package: "bpfrun"),
                .product(name: "Verifier", package: "bpfrun"),
                .product(name: "JIT", package: "bpfrun"),
            ]
        ),
        .executableTarget(name: "BenchmarkTable", dependencies: ["Workloads"]),
        // The hook benchmark: the host's hooks and timing loops in C (-O2), the loops again with
        // -mretpoline (indirect calls through retpoline thunks, as in kernels with Spectre
        // mitigations), and the table (`swift run -c release HookBench`).
        .target(name: "HookHost", dependencies: [.product(name: "CAttach", package: "bpfrun")],
                cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "HookLoopsRetpoline", dependencies: ["HookHost"], cSettings: [.unsafeFlags(["-O2", "-mretpoline"])]),
        .executableTarget(
            name: "HookBench",
            dependencies: ["HookHost", "HookLoopsRetpoline", "Workloads",
                           .product(name: "Attach", package: "bpfrun"), .product(name: "BPFVM", package: "bpfrun")],
            exclude: ["Programs"]
        ),
        .executableTarget(
            name: "JITBench",
            dependencies: ["Workloads", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/JITBench",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
