// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "bpfrun",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BPFVM", targets: ["BPFVM"]),
        .library(name: "Verifier", targets: ["Verifier"]),
        .library(name: "JIT", targets: ["JIT"]),
        .library(name: "Conformance", targets: ["Conformance"]),
        .library(name: "Attach", targets: ["Attach"]),
        .library(name: "CHostHooks", targets: ["CHostHooks"]),
        .library(name: "CAttach", targets: ["CAttach"]),
        .library(name: "BenchmarkWorkloads", targets: ["BenchmarkWorkloads"]),
        .executable(name: "bpfrun", targets: ["bpfrun"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
    ],
    targets: [
        // Wrappers over the few Linux calls Swift cannot make itself (gettid, process_vm_readv,
        // prctl, getrandom, dladdr, the unwinder).
        .target(name: "CSystemShims", linkerSettings: [.linkedLibrary("gcc_s")]),
        .target(
            name: "BPFVM",
            dependencies: ["CSystemShims", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // Proves programs safe (abstract interpretation of every path, as the kernel's verifier).
        .target(name: "Verifier", dependencies: ["BPFVM"]),
        // Compiles verified programs to x86-64 machine code (typed assembler, executable memory).
        .target(name: "JIT", dependencies: ["BPFVM", "Verifier", "CJITSupport"]),
        // The signal handler that makes the JIT's fault-safe loads read 0 (exception tables).
        .target(name: "CJITSupport"),
        .target(name: "Conformance", dependencies: ["BPFVM", "Verifier", "JIT"]),
        // Attaches verified programs to the host's hooks through generated trampolines.
        .target(
            name: "Attach",
            dependencies: ["BPFVM", "Verifier", "JIT", "CAttach", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // The hook-declaring macros and what the attach layer does below Swift: per-thread state
        // that generated code reaches through fs:, membarrier, writing code words.
        .target(name: "CAttach"),
        // The eight hooks of progs/include/hooks.h as entry-patchable functions (clang's
        // patchable_function_entry), for the tests and bpfrun.
        .target(name: "CHostHooks", dependencies: ["CAttach"]),
        // libbpf (libbpf-dev), for the C-syntax BTF dump.
        .systemLibrary(
            name: "CLibBPF",
            path: "Sources/CLibBPF",
            pkgConfig: "libbpf",
            providers: [.apt(["libbpf-dev"])]
        ),
        // Collects the output of libbpf's printf-style (va_list) BTF dump callback.
        .target(name: "CBTFDumpShim", dependencies: ["CLibBPF"]),
        .target(name: "BTFDump", dependencies: ["BPFVM", "CBTFDumpShim"]),
        // The benchmark programs, written once in C: compiled here natively with -O2 (the baseline
        // of `bpfrun bench` and of Benchmarks/), and for BPF by progs/Makefile from the same files.
        .target(name: "BenchmarkPrograms", cSettings: [.unsafeFlags(["-O2"])]),
        // Each benchmark program loaded, verified, JIT-compiled and run by every engine, beside its
        // native build (what `bpfrun bench` and Benchmarks/ measure).
        .target(name: "BenchmarkWorkloads", dependencies: ["BPFVM", "Verifier", "JIT", "BenchmarkPrograms"]),
        .executableTarget(
            name: "bpfrun",
            dependencies: [
                "BPFVM",
                "Verifier",
                "Conformance",
                "BTFDump",
                "BenchmarkWorkloads",
                "CSystemShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Release builds link the Swift runtime and libraries statically: a command starts in half the time
            // (no shared-library loading and binding) and with less memory. (The command's own imports compile
            // against the static libraries too, so that they name everything those need.)
            swiftSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))],
            // Exported symbols let `run` name the frames of the stack traces programs take.
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "--export-dynamic"]),
                .unsafeFlags(["-static-stdlib"], .when(configuration: .release)),
            ]
        ),
        // What several test targets share: scoped temporary folders, objects compiled once per source.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "BPFVMTests", dependencies: ["BPFVM", "TestSupport"]),
        // The x86-64 assembler against llvm-mc, and JIT-compiled programs against the interpreter.
        .testTarget(name: "JITTests", dependencies: ["JIT", "BPFVM", "Verifier", "TestSupport"], exclude: ["Programs"]),
        .testTarget(name: "ConformanceTests", dependencies: ["Conformance", "BPFVM", "Verifier"]),
        // Programs/ holds the C sources the BTF tests of BPFVMTests and BTFDumpTests compile.
        .testTarget(name: "BTFDumpTests", dependencies: ["BTFDump", "BPFVM", "TestSupport"], exclude: ["Programs"]),
        // Loads, links and runs the objects of progs/ (built by `make -C progs`).
        .testTarget(name: "ObjectTests", dependencies: ["BPFVM", "JIT"]),
        // Hooks of a test host (C hooks, a Swift static-call hook, sites that cannot be patched).
        .target(name: "AttachTestHost", dependencies: ["CAttach"], path: "Tests/AttachTestHost"),
        // The attach layer: every rule of the trampoline, refusals, patching under load.
        .testTarget(name: "AttachTests",
                    dependencies: ["Attach", "CHostHooks", "AttachTestHost", "BPFVM", "Verifier", "TestSupport"],
                    exclude: ["Programs"]),
        // The verifier: its scalar domain against concrete semantics, and its corpus of programs
        // with verdicts: Cases/*.cases (assembly) and Programs/*.c (compiled at test time).
        .testTarget(name: "VerifierTests", dependencies: ["Verifier", "BPFVM", "TestSupport"],
                    exclude: ["Cases", "Programs"]),
        // Runs the bpfrun executable itself; Objects/ holds the C sources of the objects it inspects.
        .testTarget(name: "bpfrunTests", dependencies: ["bpfrun", "TestSupport"], exclude: ["Objects"]),
        // The compatibility suite: progs/compat's libbpf-tool-style objects inspected, dumped and
        // printed through bpfrun against bpftool, and run through the library.
        .testTarget(name: "CompatTests", dependencies: ["BPFVM", "Verifier", "TestSupport", "bpfrun"],
                    exclude: ["Programs"]),
    ]
)
