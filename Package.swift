// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "bpfrun",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BPFVM", targets: ["BPFVM"]),
        .library(name: "Conformance", targets: ["Conformance"]),
        .executable(name: "bpfrun", targets: ["bpfrun"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
    ],
    targets: [
        .target(
            name: "BPFVM",
            dependencies: [.product(name: "Atomics", package: "swift-atomics")]
        ),
        .target(name: "Conformance", dependencies: ["BPFVM"]),
        .executableTarget(
            name: "bpfrun",
            dependencies: [
                "BPFVM",
                "Conformance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "BPFVMTests", dependencies: ["BPFVM"]),
        .testTarget(name: "ConformanceTests", dependencies: ["Conformance", "BPFVM"]),
    ]
)
