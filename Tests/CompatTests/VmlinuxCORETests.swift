import Foundation
import Testing
import TestSupport
import BPFVM

/// CO-RE against the running kernel's own BTF (`/sys/kernel/btf/vmlinux`): the suite's kernel.h
/// declares its own layout of the kernel's structs, and relocation must find each field where
/// the real kernel has it, through its anonymous structs and unions. The oracle is the C
/// compiler: the same fields' `offsetof` and `sizeof` over a vmlinux.h that bpftool writes from
/// that BTF.
@Suite("CO-RE against the running kernel's BTF", .enabled(if: VmlinuxFixtures.isAvailable, VmlinuxFixtures.skipReason))
struct VmlinuxCORETests {
    @Test("every field's offset and size relocated against vmlinux is the C compiler's for the real kernel")
    func fieldsMatchTheCompiler() throws {
        let oracle = try Object(bytes: VmlinuxFixtures.bytes(try VmlinuxFixtures.oracle()), name: "vmlinux_offsets")
        func words(_ name: String, in bytes: [UInt8]?) throws -> [UInt64] {
            let bytes = try #require(bytes, "no \(name)")
            return stride(from: 0, to: bytes.count, by: 8).map { bytes.integer(UInt64.self, at: $0) }
        }
        let data = try #require(oracle.globalData.first { $0.sectionName == ".data" })
        func expected(_ name: String) throws -> [UInt64] {
            let variable = try #require(data.variables.first { $0.name == name })
            return try words(name, in: Array(data.initialBytes[variable.offset..<(variable.offset + variable.size)]))
        }
        let object = try Object(bytes: VmlinuxFixtures.bytes(try VmlinuxFixtures.relocated()), name: "core_offsets")
        let loaded = try LoadedObject(object)
        try loaded.load(targetBTF: try #require(VmlinuxFixtures.btf))
        let program = try loaded.program(named: "relocate")
        #expect(program.linked.metadata.poisoned.isEmpty, "\(program.linked.metadata.poisoned)")
        var context = [UInt8](repeating: 0, count: 8)
        let count = try context.withUnsafeMutableBytes { try program.run(memory: $0) }
        let offsets = try words("offsets", in: loaded.global("offsets"))
        let sizes = try words("sizes", in: loaded.global("sizes"))
        #expect(offsets.count == Int(count) && offsets.count > 50)
        #expect(offsets == (try expected("offsets")))
        #expect(sizes == (try expected("sizes")))
    }
}

/// The files of the vmlinux test: the running kernel's BTF, the vmlinux.h bpftool writes from
/// it (in the package's .build, named after the BTF's hash), and the two programs compiled once.
enum VmlinuxFixtures {
    static let vmlinux = "/sys/kernel/btf/vmlinux"
    static let clang = "/opt/swift/usr/bin/clang"
    static let programs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Programs")

    static var isAvailable: Bool {
        FileManager.default.isReadableFile(atPath: vmlinux) && Tools.bpftool != nil
            && FileManager.default.isExecutableFile(atPath: clang) && CompatSuite.isBuilt
    }

    static let skipReason: Comment = "needs /sys/kernel/btf/vmlinux, bpftool, clang and progs/build/compat"

    static let btf: BTF? = (try? Data(contentsOf: URL(fileURLWithPath: vmlinux))).flatMap { try? BTF(bytes: [UInt8]($0)) }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    /// The folder holding vmlinux.h for the running kernel's BTF, written on first use.
    static func headerDirectory() throws -> URL {
        let hash = CompiledFixtures.fnv1a(try bytes(URL(fileURLWithPath: vmlinux)))
        let directory = CompiledFixtures.packageDirectory
            .appendingPathComponent(".build/test-fixtures/vmlinux/\(String(hash, radix: 16))")
        let header = directory.appendingPathComponent("vmlinux.h")
        if FileManager.default.fileExists(atPath: header.path) { return directory }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let dump = try ToolRun(try #require(Tools.bpftool), ["btf", "dump", "file", vmlinux, "format", "c"])
        try #require(dump.status == 0, "bpftool: \(dump.stderr)")
        let partial = directory.appendingPathComponent("vmlinux.h.partial-\(UUID().uuidString)")
        try dump.stdout.write(to: partial, atomically: false, encoding: .utf8)
        try #require(rename(partial.path, header.path) == 0)
        return directory
    }

    /// vmlinux_offsets.c compiled against the running kernel's vmlinux.h.
    static func oracle() throws -> URL {
        try CompiledFixtures.object(
            compiling: programs.appendingPathComponent("vmlinux_offsets.c"), clang: clang,
            arguments: ["-O2", "-target", "bpf", "-I\(try headerDirectory().path)", "-I\(programs.path)"],
            folder: "vmlinux", dependencies: [programs.appendingPathComponent("kernel_fields.h")])
    }

    static let kernelHeader = CompatSuite.repository.appendingPathComponent("progs/compat/include/kernel.h")

    /// core_offsets.c compiled against the compatibility suite's kernel.h.
    static func relocated() throws -> URL {
        try CompiledFixtures.object(
            compiling: programs.appendingPathComponent("core_offsets.c"), clang: clang,
            arguments: ["-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu",
                        "-I\(CompatSuite.repository.appendingPathComponent("progs/compat/include").path)",
                        "-I\(programs.path)"],
            folder: "vmlinux", dependencies: [kernelHeader, programs.appendingPathComponent("kernel_fields.h")])
    }
}
