import Foundation
import Testing
import BPFVM

/// Compiles BPF C source with clang at test time.
enum BPFCompiler {
    static let clang: String? = ["/opt/swift/usr/bin/clang", "/usr/bin/clang"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static func compile(_ source: String) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("objtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("prog.c")
        let output = directory.appendingPathComponent("prog.o")
        try source.write(to: input, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(clang))
        process.arguments = ["-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", input.path,
                             "-o", output.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "clang failed on:\n\(source)")
        return [UInt8](try Data(contentsOf: output))
    }
}

@Suite("Objects the loader refuses, with the reason", .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct ObjectErrorTests {
    static let header = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>
        char LICENSE[] SEC("license") = "GPL";

        """

    @Test("legacy `maps` section definitions are refused as libbpf 1.x does")
    func legacyMaps() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            struct legacy_def { unsigned int type, key_size, value_size, max_entries, map_flags; };
            struct legacy_def counts SEC("maps") = { BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0 };
            SEC("socket") int prog(void *ctx) { return 0; }
            """)
        #expect(throws: ObjectError.legacyMaps) { try Object(bytes: bytes, name: "legacy") }
        #expect(ObjectError.legacyMaps.description
            == "legacy map definitions are not supported, use BTF-defined maps (section 'maps')")
    }

    @Test("a call to an unknown helper fails to load and names the helper")
    func unknownHelper() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            static long (*mystery)(int) = (void *)9999;
            SEC("socket") int prog(void *ctx) { return mystery(1); }
            """)
        let loaded = try LoadedObject(Object(bytes: bytes, name: "unknown"))
        let error = #expect(throws: ObjectError.self) { try loaded.load() }
        guard case .link("prog", _, let reason)? = error else {
            Issue.record("expected a link error, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("unknown helper 9999"))
    }

    @Test("GPL-only helpers need a GPL-compatible license")
    func gplOnly() throws {
        let source = """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>
            char LICENSE[] SEC("license") = "Proprietary";
            SEC("socket") int prog(void *ctx) { bpf_printk("hello"); return 0; }
            """
        let loaded = try LoadedObject(Object(bytes: BPFCompiler.compile(source), name: "proprietary"))
        let error = #expect(throws: ObjectError.self) { try loaded.load() }
        #expect(error?.description.contains("bpf_trace_printk is GPL-only and the license \"Proprietary\"") == true)
        let gpl = try LoadedObject(Object(bytes: BPFCompiler.compile(source.replacingOccurrences(of: "Proprietary",
                                                                                                   with: "Dual MIT/GPL")),
                                          name: "gpl"))
        try gpl.load()
    }

    @Test("an executable section libbpf does not know is refused")
    func unknownSection() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            SEC("weird/section") int prog(void *ctx) { return 0; }
            """)
        #expect(throws: ObjectError.unknownProgramSection("weird/section")) { try Object(bytes: bytes, name: "weird") }
    }

    @Test("externs are refused with their name")
    func externs() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            extern int missing_variable __attribute__((weak));
            SEC("socket") int prog(void *ctx) { return missing_variable; }
            """)
        let object = try Object(bytes: bytes, name: "externs")
        let error = #expect(throws: ObjectError.self) { try Linker.link(object, program: "prog") }
        guard case .link("prog", _, let reason)? = error else {
            Issue.record("expected a link error, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("missing_variable"))
    }

    @Test("asking for a program that does not exist lists the ones that do")
    func noSuchProgram() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            SEC("socket") int first(void *ctx) { return 0; }
            SEC("xdp") int second(void *ctx) { return 2; }
            """)
        let object = try Object(bytes: bytes, name: "two")
        #expect(throws: ObjectError.noSuchProgram("third", available: ["first", "second"])) {
            try Linker.link(object, program: "third")
        }
    }

    @Test("a map whose type is not supported is named")
    func unsupportedMapType() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            struct { __uint(type, BPF_MAP_TYPE_DEVMAP); __uint(max_entries, 4); __type(key, int); __type(value, int); } traces SEC(".maps");
            SEC("socket") int prog(void *ctx) { return bpf_map_lookup_elem(&traces, &(int){0}) != 0; }
            """)
        #expect(throws: ObjectError.invalidMap(name: "traces", reason: "map type 14 is not supported")) {
            try Object(bytes: bytes, name: "maps")
        }
    }

    @Test("truncated objects are refused by the ELF reader, never crash")
    func truncated() throws {
        let bytes = try BPFCompiler.compile(Self.header + "SEC(\"socket\") int prog(void *ctx) { return 0; }")
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)) {
            let prefix = Array(bytes.prefix(length))
            let error = #expect(throws: ObjectError.self) { try Object(bytes: prefix, name: "cut") }
            if case .elf? = error {} else { Issue.record("a \(length)-byte prefix gave \(String(describing: error))") }
        }
    }
}
