import Foundation
import Testing
import BPFVM

/// Compiles BPF C source with clang at test time.
enum BPFCompiler {
    static let clang: String? = ["/opt/swift/usr/bin/clang", "/usr/bin/clang"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// The object clang makes of `source` for `target` (with `-g` unless `debugInfo` is false); `edit`, when given,
    /// may change the object file (in its temporary directory) before it is read.
    static func compile(_ source: String, target: String = "bpf", debugInfo: Bool = true,
                        edit: ((_ object: URL, _ directory: URL) throws -> Void)? = nil) throws -> [UInt8]
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("objtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("prog.c")
        let output = directory.appendingPathComponent("prog.o")
        try source.write(to: input, atomically: true, encoding: .utf8)
        try runTool(try #require(clang), ["-O2"] + (debugInfo ? ["-g"] : []) + ["-target", target,
                    "-I/usr/include/x86_64-linux-gnu", "-c", input.path, "-o", output.path])
        try edit?(output, directory)
        return [UInt8](try Data(contentsOf: output))
    }

    /// Runs `tool`, which must succeed.
    static func runTool(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(tool) \(arguments) failed")
    }
}

@Suite("Objects the loader refuses, with the reason", .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct ObjectErrorTests {
    static let header = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>
        char LICENSE[] SEC("license") = "GPL";

        """

    @Test("legacy `maps` section definitions parse, and only a program using one is refused, as libbpf 1.x refuses it")
    func legacyMaps() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            struct legacy_def { unsigned int type, key_size, value_size, max_entries, map_flags; };
            struct legacy_def counts SEC("maps") = { BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0 };
            SEC("socket") int prog(void *ctx) { return bpf_map_lookup_elem(&counts, &(int){0}) != 0; }
            SEC("socket") int other(void *ctx) { return 3; }
            """)
        let object = try Object(bytes: bytes, name: "legacy")
        #expect(object.maps == [MapDeclaration(name: "counts", type: .array, keySize: 4, valueSize: 8, maxEntries: 1,
                                               flags: 0, isLegacy: true, sectionIndex: object.maps[0].sectionIndex,
                                               symbolOffset: 0)])
        let reason = "legacy map definitions (section 'maps') are not supported, as libbpf 1.x does not support them;"
            + " declare the map in '.maps' with BTF"
        #expect(object.maps[0].unavailability == reason)
        let loaded = try LoadedObject(object)
        let error = #expect(throws: ObjectError.self) { try loaded.load(programs: ["prog"]) }
        guard case .link("prog", _, let text)? = error else {
            Issue.record("expected a link error, got \(String(describing: error))")
            return
        }
        #expect(text == "map 'counts': " + reason)
        try loaded.load(programs: ["other"])
        #expect(try loaded.program(named: "other").testRun(input: []).result == 3)
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

    @Test("a program in an executable section libbpf does not know links, but does not load")
    func unknownSection() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            SEC("weird/section") int prog(void *ctx) { return 0; }
            """)
        let object = try Object(bytes: bytes, name: "weird")
        #expect(object.programs.map(\.sectionMeaning) == [.unrecognised])
        _ = try Linker.link(object, program: "prog")
        let expected = ObjectError.notRunnable(
            program: "prog", section: "weird/section",
            reason: "not a program section libbpf recognises, so it gives its programs no type")
        #expect(throws: expected) { try LoadedObject(object).load() }
        #expect(expected.description
            == "program 'prog' (section 'weird/section'): not a program section libbpf recognises, so it gives its programs no type")
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

    @Test("a map whose type is not supported is named by its kernel name when a program using it loads")
    func unsupportedMapType() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            struct { __uint(type, BPF_MAP_TYPE_DEVMAP); __uint(max_entries, 4); __type(key, int); __type(value, int); } traces SEC(".maps");
            SEC("socket") int prog(void *ctx) { return bpf_map_lookup_elem(&traces, &(int){0}) != 0; }
            """)
        let object = try Object(bytes: bytes, name: "maps")
        #expect(object.maps.map(\.type) == [.deviceMap])
        let error = #expect(throws: ObjectError.self) { try LoadedObject(object).load() }
        guard case .link("prog", _, let reason)? = error else {
            Issue.record("expected a link error, got \(String(describing: error))")
            return
        }
        #expect(reason.hasPrefix("map 'traces': devmap is not a map type this runtime implements"))
        #expect(!reason.contains("map type 14"))
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
