// swift-tools-version: 6.1
// Fuzz targets for the BPFVM object readers and loader. Not part of the main build; see README.md for how to build and run.
import PackageDescription

let package = Package(
    name: "FuzzTesting",
    dependencies: [
        // Named explicitly so the package resolves whatever the checkout directory is called.
        .package(name: "bpfrun", path: "../"),
    ],
    targets: [
        .target(
            name: "FuzzSupport",
            swiftSettings: [.enableExperimentalFeature("Extern")]
        ),
        .executableTarget(
            name: "FuzzELF",
            dependencies: ["FuzzSupport", .product(name: "BPFVM", package: "bpfrun")]
        ),
        .executableTarget(
            name: "FuzzBTF",
            dependencies: ["FuzzSupport", .product(name: "BPFVM", package: "bpfrun")]
        ),
        .executableTarget(
            name: "FuzzLoad",
            dependencies: ["FuzzSupport", .product(name: "BPFVM", package: "bpfrun")]
        ),
    ]
)
