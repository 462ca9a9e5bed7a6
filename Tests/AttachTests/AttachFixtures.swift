import Attach
import BPFVM
import Foundation
import Testing
import TestSupport

/// What the attach tests share: the test host's BTF and the programs of `Programs/`, compiled
/// once per run, and the process's hook table.
enum AttachFixtures {
    static let clang = "/opt/swift/usr/bin/clang"
    static let isAvailable = FileManager.default.isExecutableFile(atPath: clang)
    static let unavailable: Comment = "needs /opt/swift/usr/bin/clang to compile the host BTF and Programs/*.c"

    static let programsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Programs")
    static let includeDirectory = CompiledFixtures.packageDirectory.appendingPathComponent("progs/include")

    static func object(_ name: String) throws -> Object {
        let source = programsDirectory.appendingPathComponent(name + ".c")
        let url = try CompiledFixtures.object(
            compiling: source, clang: clang,
            arguments: ["-O2", "-g", "-target", "bpf", "-mcpu=v3", "-Wall", "-Werror",
                        "-I/usr/include/x86_64-linux-gnu", "-I\(includeDirectory.path)"],
            folder: "attach-programs",
            dependencies: [includeDirectory.appendingPathComponent("hooks.h"),
                           CompiledFixtures.packageDirectory.appendingPathComponent("progs/host_hooks.c")])
        return try Object(bytes: [UInt8](try Data(contentsOf: url)), name: name)
    }

    /// The process's hook table, described by the test host's BTF.
    static func table() throws -> HookTable {
        let btf = try #require(try object("test_host_btf").btf, "test_host_btf.c compiled without BTF")
        return try HookTable.process(hostBTF: btf)
    }

    /// A loaded object of `Programs/<name>.c` (the programs named, or all).
    static func loaded(_ name: String, helpers: HelperTable = StandardHelpers.table, programs: [String]? = nil) throws
        -> LoadedObject
    {
        let object = try LoadedObject(try Self.object(name), helpers: helpers)
        try object.load(programs: programs)
        return object
    }
}

extension LoadedObject {
    /// A little-endian integer global.
    func integer<T: FixedWidthInteger>(_ name: String, as: T.Type = Int64.self) throws -> T {
        let bytes = try #require(global(name), "no global \(name)")
        return bytes.prefix(MemoryLayout<T>.size).reversed().reduce(T.zero) { $0 << 8 | T($1) }
    }

    func set<T: FixedWidthInteger>(_ name: String, _ value: T) throws {
        try setGlobal(name, to: (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
    }
}
