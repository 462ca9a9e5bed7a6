import BPFVM
import Foundation
import Testing
import TestSupport

/// C compiled for the tests: the host's BTF (progs/host_hooks.c, which defines the hooks'
/// prototypes the verifier types hook contexts by) and the programs of `Programs/`.
enum CompiledPrograms {
    static let clang = "/opt/swift/usr/bin/clang"
    static let isAvailable = FileManager.default.isExecutableFile(atPath: clang)
    static let unavailable: Comment = "needs /opt/swift/usr/bin/clang to compile the host's BTF and Programs/*.c"

    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let programsDirectory = testsDirectory.appendingPathComponent("Programs")
    static let progsDirectory = CompiledFixtures.packageDirectory.appendingPathComponent("progs")

    static func object(_ source: URL) throws -> Object {
        let url = try CompiledFixtures.object(
            compiling: source, clang: clang,
            arguments: ["-O2", "-g", "-target", "bpf", "-mcpu=v3", "-Wall", "-Werror",
                        "-I/usr/include/x86_64-linux-gnu", "-I\(progsDirectory.path)/include"],
            folder: "verifier-programs")
        return try Object(bytes: [UInt8](try Data(contentsOf: url)), name: source.deletingPathExtension().lastPathComponent)
    }

    /// The BTF of progs/host_hooks.c (the hooks' prototypes and types), compiled once per test run.
    static func hostBTF() throws -> BTF {
        try #require(try compiledHostBTF.get(), "progs/host_hooks.c compiled without BTF")
    }

    private static let compiledHostBTF = Result { try object(progsDirectory.appendingPathComponent("host_hooks.c")).btf }
}
