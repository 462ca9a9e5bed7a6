import Foundation
import Testing
import BPFVM

/// Parsing accepts what libbpf accepts (every map type, every attribute, every section); linking
/// and loading take one program and what it references, so that other programs' problems do not
/// matter.
@Suite("Parsing everything, loading per program", .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct PerProgramLoadTests {
    static let header = ObjectErrorTests.header

    /// A parser split into tail-called stages beside programs that cannot load here.
    static let dispatch = header + """
        struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } seen SEC(".maps");
        struct { __uint(type, BPF_MAP_TYPE_DEVMAP); __uint(max_entries, 1); __uint(key_size, 4); __uint(value_size, 4); } events SEC(".maps");
        SEC("socket") int last(void *ctx) { __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&seen, &k); if (v) *v += 10; return 42; }
        int middle(void *ctx);
        struct {
            __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 2); __uint(key_size, 4);
            __array(values, int (void *));
        } jump SEC(".maps") = { .values = { (void *)&middle, (void *)&last } };
        SEC("socket") int middle(void *ctx) { bpf_tail_call(ctx, &jump, 1); return 1; }
        SEC("socket") int first(void *ctx) { bpf_tail_call(ctx, &jump, 0); return 2; }
        SEC("socket") int emit(void *ctx) { __u32 k = 0; return bpf_map_lookup_elem(&events, &k) != 0; }
        static long (*unknown_helper)(void) = (void *)9999;
        SEC("socket") int future(void *ctx) { return unknown_helper(); }
        SEC("freplace/first") int replace_first(void *ctx) { return 0; }
        SEC("socket") int alone(void *ctx) { return 5; }
        """

    @Test("load(programs:) loads a program, the programs its tail calls reach, and nothing else")
    func tailCallClosure() throws {
        let object = try Object(bytes: BPFCompiler.compile(Self.dispatch), name: "dispatch")
        let loaded = try LoadedObject(object)
        #expect(loaded.maps.map(\.definition.name) == ["seen", "jump"])  // events cannot be created here
        try loaded.load(programs: ["first"])
        #expect(loaded.programs.map(\.name) == ["last", "middle", "first"])
        #expect(try loaded.program(named: "first").testRun(input: []).result == 42)
        #expect(loaded.map(named: "seen")?.lookup([0, 0, 0, 0]) == [10, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("a program that cannot load fails alone, naming itself and the instruction; the others still load",
          arguments: [
              ("emit", "program 'emit', instruction 4: map 'events': devmap is not a map type this runtime implements"),
              ("future", "program 'future', instruction 0: call to unknown helper 9999"),
              ("replace_first", "program 'replace_first' (section 'freplace/first'): freplace programs replace a function"),
          ])
    func brokenSiblings(program: String, message: String) throws {
        let object = try Object(bytes: BPFCompiler.compile(Self.dispatch), name: "dispatch")
        let loaded = try LoadedObject(object)
        let error = #expect(throws: ObjectError.self) { try loaded.load(programs: [program]) }
        #expect(error?.description.hasPrefix(message) == true, "\(String(describing: error))")
        #expect(loaded.programs.isEmpty && !loaded.isLoaded)
        try loaded.load(programs: ["alone"])
        try loaded.load(programs: ["first"])
        #expect(loaded.programs.map(\.name) == ["last", "middle", "first", "alone"])
        // Loading everything still fails on the first program that cannot load, as libbpf would.
        #expect(throws: ObjectError.self) { try loaded.load() }
        #expect(loaded.programs.count == 4)
    }

    @Test("a sibling section that is not whole instructions does not stop another program from linking")
    func siblingSectionCannotFailLinking() throws {
        var bytes = try BPFCompiler.compile(Self.header + """
            SEC("xdp") int good(void *ctx) { return 2; }
            SEC("tc") int bad(void *ctx) { return 0; }
            """)
        let header = try ObjectSurgery.sectionHeader(bytes, named: "tc")
        ObjectSurgery.put(&bytes, header + 32, UInt64(20))  // sh_size: two and a half instructions
        let object = try Object(bytes: bytes, name: "sections")
        #expect(try Linker.link(object, program: "good").instructions.count == 2)
        #expect(throws: ObjectError.link(program: "bad", instruction: 0,
                                         reason: "section 'tc' is 20 bytes, not a whole number of instructions")) {
            try Linker.link(object, program: "bad")
        }
    }

    @Test("map attributes: __ulong(map_extra, ...) as ENUM and ENUM64, inner-map templates, initial values")
    func mapAttributes() throws {
        let object = try Object(bytes: BPFCompiler.compile(Self.header + """
            #define concat_(a, b) a ## b
            #define concat(a, b) concat_(a, b)
            #define __ulong(name, val) enum { concat(__unique_value, __COUNTER__) = val } name
            struct { __uint(type, BPF_MAP_TYPE_BLOOM_FILTER); __type(value, __u32); __uint(max_entries, 8); __ulong(map_extra, 5); } bloom SEC(".maps");
            struct { __uint(type, 33); __uint(map_flags, BPF_F_MMAPABLE); __uint(max_entries, 1); __ulong(map_extra, 0x7f0000000000ULL); } arena SEC(".maps");
            struct inner { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 3); __type(key, __u32); __type(value, __u16); } a SEC(".maps"), b SEC(".maps");
            struct { __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS); __uint(max_entries, 4); __type(key, __u32); __array(values, struct inner); } outer SEC(".maps") = { .values = { [2] = &b, [0] = &a } };
            SEC("socket") int prog(void *ctx) { return bpf_map_lookup_elem(&outer, &(__u32){0}) != 0; }
            """), name: "attributes")
        let byName = Dictionary(uniqueKeysWithValues: object.maps.map { ($0.name, $0) })
        #expect(byName["bloom"]?.type == .bloomFilter && byName["bloom"]?.mapExtra == 5 && byName["bloom"]?.valueSize == 4)
        #expect(byName["arena"]?.type == .arena && byName["arena"]?.mapExtra == 0x7f00_0000_0000
            && byName["arena"]?.flags == 0x400)
        let outer = try #require(byName["outer"])
        #expect(outer.type == .hashOfMaps && outer.valueSize == 4 && outer.initialValues == [0: "a", 2: "b"])
        #expect(outer.innerMap == MapDeclaration(name: "outer.inner", type: .hash, keySize: 4, valueSize: 2, maxEntries: 3,
                                                 flags: 0))
        #expect(try outer.runtimeDefinition().innerMap
            == MapDefinition(name: "outer.inner", type: .hash, keySize: 4, valueSize: 2, maxEntries: 3))
        #expect(outer.unavailability == nil && byName["a"]?.unavailability == nil)
        #expect(byName["arena"]?.unavailability?.hasPrefix("arena is not a map type this runtime implements") == true)
    }

    @Test("every kernel map type number has libbpf's name; numbers past the table are named as unknown")
    func kernelMapTypeNames() {
        let names = (0...33).map { KernelMapType(rawValue: UInt32($0)).description }
        #expect(names == [
            "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash", "percpu_array", "stack_trace",
            "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps", "hash_of_maps", "devmap",
            "sockmap", "cpumap", "xskmap", "sockhash", "cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage",
            "queue", "stack", "sk_storage", "devmap_hash", "struct_ops", "ringbuf", "inode_storage", "task_storage",
            "bloom_filter", "user_ringbuf", "cgrp_storage", "arena",
        ])
        #expect(KernelMapType(rawValue: 34).description == "unknown map type 34")
        #expect(KernelMapType.deviceMap.runtimeType == nil && KernelMapType.ringBuffer.runtimeType == .ringBuffer)
        for type in MapType.allCases { #expect(KernelMapType(rawValue: type.rawValue).runtimeType == type) }
    }

    @Test("section names: runnable kinds, kernel-only program types with a reason, names libbpf does not know",
          arguments: [
              ("socket", "runs"), ("?xdp", "runs"), ("fentry/net_send", "runs"), ("tp/syscalls/sys_enter_openat", "runs"),
              ("freplace/handler", "freplace programs"), ("kprobe.multi/vfs_*", "multi-kprobe"),
              ("uprobe.multi/libc.so.6:malloc", "multi-uprobe"), ("sk_reuseport/migrate", "sk_reuseport programs"),
              ("lirc_mode2", "LIRC"), ("lsm_cgroup/socket_bind", "lsm_cgroup"), ("raw_tp.w/x", "writable raw tracepoints"),
              ("netkit/primary", "netkit"), ("iter.s/task", "sleepable"), ("fentry", "'fentry' names no hook"),
              ("lsm.s", "'lsm.s' names no hook"), ("custom/thing", "not a program section libbpf recognises"),
          ])
    func sectionMeanings(section: String, expected: String) {
        let meaning = ProgramSection(name: section)
        if expected == "runs" {
            #expect(meaning.kind != nil && meaning.refusal == nil)
        } else {
            #expect(meaning.kind == nil)
            #expect(meaning.refusal?.contains(expected) == true, "\(String(describing: meaning.refusal))")
        }
    }
}

@Suite("Finding BTF in any file", .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct BTFSourceTests {
    static let objcopy = "/opt/swift/usr/bin/llvm-objcopy"

    @Test("a big-endian BPF object: the section table reads, the BTF parses, the object itself is refused")
    func bigEndian() throws {
        let bytes = try BPFCompiler.compile(ObjectErrorTests.header + "SEC(\"socket\") int prog(void *ctx) { return 1; }",
                                            target: "bpfeb")
        let table = try ELFSectionTable(bytes: bytes)
        #expect(table.isBigEndian && table.is64Bit && table.section(named: ".BTF") != nil)
        let source = try BTFSource(file: bytes)
        #expect(source.pointerSize == 8)
        let btf = try source.parse()
        #expect(btf.header.isBigEndian && btf.firstType(named: "prog") != nil)
        #expect(throws: ObjectError.elf(ELFError(location: "ELF header", reason: .wrongByteOrder(2)))) {
            try Object(bytes: bytes, name: "big")
        }
    }

    @Test("a 32-bit ELF file with a .BTF section: libbpf's pointer size is 4",
          .enabled(if: FileManager.default.isExecutableFile(atPath: objcopy), "llvm-objcopy not found"))
    func elf32() throws {
        let bpf = try BPFCompiler.compile(ObjectErrorTests.header + "SEC(\"socket\") int prog(void *ctx) { return 1; }")
        let bytes = try BPFCompiler.compile("int x;", target: "i386-linux-gnu", debugInfo: false) { object, directory in
            let btf = directory.appendingPathComponent("raw.btf")
            let bpfObject = directory.appendingPathComponent("bpf.o")
            try Data(bpf).write(to: bpfObject)
            try BPFCompiler.runTool(Self.objcopy, ["--dump-section", ".BTF=\(btf.path)", bpfObject.path,
                                                   directory.appendingPathComponent("copy.o").path])
            try BPFCompiler.runTool(Self.objcopy, ["--add-section", ".BTF=\(btf.path)", object.path])
        }
        let table = try ELFSectionTable(bytes: bytes)
        #expect(!table.is64Bit && !table.isBigEndian)
        let source = try BTFSource(file: bytes)
        #expect(source.pointerSize == 4)
        #expect(try source.parse().firstType(named: "prog") != nil)
    }

    @Test("raw BTF is recognised by its magic in either byte order; anything else is not BTF")
    func rawAndNot() throws {
        let bytes = try BPFCompiler.compile(ObjectErrorTests.header + "SEC(\"socket\") int prog(void *ctx) { return 1; }")
        let section = try BTFSource(file: bytes).bytes
        let raw = try BTFSource(file: section)
        #expect(raw.pointerSize == nil && raw.bytes == section)
        #expect(throws: BTFSourceError.notBTF) { try BTFSource(file: Array("#!/bin/sh\n".utf8)) }
        #expect(throws: BTFSourceError.noBTFSection) {
            try BTFSource(file: try BPFCompiler.compile("int x;", target: "x86_64-linux-gnu", debugInfo: false))
        }
    }
}
