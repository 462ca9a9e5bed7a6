import Foundation
import Testing
import BPFVM

/// Byte surgery on objects clang compiled, to plant exactly one malformation.
enum ObjectSurgery {
    /// The marker constant the programs load with `lddw` (`asm("%0 = 0x1122334455667788 ll")`), as the slot's
    /// imm and next imm.
    static let markerLow: [UInt8] = [0x88, 0x77, 0x66, 0x55]
    static let markerHigh: [UInt8] = [0x44, 0x33, 0x22, 0x11]

    /// The byte offset in the file of the marker `lddw` and its slot index in section `section`.
    static func marker(in bytes: [UInt8], section: String) throws -> (offset: Int, slot: Int) {
        let elf = try ELFFile(bytes: bytes)
        let text = try #require(elf.section(named: section))
        var offset = text.offset
        while offset + 16 <= text.offset + text.size {
            if bytes[offset] == 0x18, Array(bytes[offset + 4..<offset + 8]) == markerLow,
               Array(bytes[offset + 12..<offset + 16]) == markerHigh
            {
                return (offset, (offset - text.offset) / 8)
            }
            offset += 8
        }
        Issue.record("no marker lddw in '\(section)'")
        throw CancellationError()
    }

    /// Sets the `src` nibble, imm and next imm of the `lddw` at file offset `offset`.
    static func setLoad(_ bytes: inout [UInt8], at offset: Int, src: UInt8, imm: UInt32, nextImm: UInt32) {
        bytes[offset + 1] = (bytes[offset + 1] & 0x0f) | src << 4
        put(&bytes, offset + 4, imm)
        put(&bytes, offset + 12, nextImm)
    }

    /// The file offset of the `.symtab` entry of the symbol `name`.
    static func symbolEntry(_ bytes: [UInt8], named name: String) throws -> Int {
        let elf = try ELFFile(bytes: bytes)
        let symtab = try #require(elf.sections.first { $0.type == ELFSection.typeSymbolTable })
        let symbol = try #require(elf.symbols.first { $0.name == name }, "no symbol '\(name)'")
        return symtab.offset + symbol.index * 24
    }

    /// Sets `st_value` (and `st_size`, when given) of the symbol `name`.
    static func setSymbol(_ bytes: inout [UInt8], named name: String, value: UInt64? = nil, size: UInt64? = nil) throws {
        let entry = try symbolEntry(bytes, named: name)
        if let value { put(&bytes, entry + 8, value) }
        if let size { put(&bytes, entry + 16, size) }
    }

    /// The file offset of the section header of the first section called `name`.
    static func sectionHeader(_ bytes: [UInt8], named name: String) throws -> Int {
        let elf = try ELFFile(bytes: bytes)
        let section = try #require(elf.section(named: name), "no section '\(name)'")
        let tableOffset = bytes[40..<48].reversed().reduce(0) { $0 << 8 | Int($1) }
        return tableOffset + section.index * 64
    }

    /// Replaces every occurrence of `old` by `new` (of the same length) anywhere in the file; returns how many.
    @discardableResult
    static func replace(_ bytes: inout [UInt8], _ old: String, with new: String) -> Int {
        let old = Array(old.utf8), new = Array(new.utf8)
        precondition(old.count == new.count && !old.isEmpty)
        var count = 0
        var offset = 0
        while offset + old.count <= bytes.count {
            if bytes[offset] == old[0] && Array(bytes[offset..<offset + old.count]) == old {
                bytes.replaceSubrange(offset..<offset + old.count, with: new)
                count += 1
                offset += old.count
            } else {
                offset += 1
            }
        }
        return count
    }

    static func put<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ offset: Int, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + $0.count, with: $0) }
    }
}

/// Objects that are well-formed ELF but malformed as BPF objects: loading them must end in a typed
/// `ObjectError` naming the program and instruction at fault, never a trap.
@Suite("Malformed objects fail with a typed error, never a trap",
       .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct MalformedObjectTests {
    static let header = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>
        char LICENSE[] SEC("license") = "GPL";

        """

    /// One map and global data, and a program that loads the marker constant with a plain `lddw` (no relocation).
    static let markerProgram = header + """
        struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
        __u64 total;
        SEC("socket") int prog(void *ctx)
        {
            unsigned long long marker;
            asm volatile("%0 = 0x1122334455667788 ll" : "=r"(marker));
            __u32 key = 0;
            __u64 *count = bpf_map_lookup_elem(&counts, &key);
            total += marker;
            return count ? *count : 0;
        }
        """

    /// The kernel's names of the `lddw` pseudo sources.
    static let pseudoSources: [(src: UInt8, name: String)] = [
        (1, "BPF_PSEUDO_MAP_FD"), (2, "BPF_PSEUDO_MAP_VALUE"), (3, "BPF_PSEUDO_BTF_ID"), (4, "BPF_PSEUDO_FUNC"),
        (5, "BPF_PSEUDO_MAP_IDX"), (6, "BPF_PSEUDO_MAP_IDX_VALUE"),
    ]

    @Test("an lddw pseudo form no relocation produced is refused by the linker, naming program and instruction",
          arguments: [UInt8](1...7) + [15], [UInt32(0), 7, 0xffff_ffff])
    func unrelocatedPseudoLoad(src: UInt8, index: UInt32) throws {
        var bytes = try BPFCompiler.compile(Self.markerProgram)
        let marker = try ObjectSurgery.marker(in: bytes, section: "socket")
        ObjectSurgery.setLoad(&bytes, at: marker.offset, src: src, imm: index, nextImm: 8)
        let object = try Object(bytes: bytes, name: "pseudo")
        #expect(object.maps.count == 1)

        // Loading links every program, then binds it: the linker must refuse the slot before binding follows
        // the index (it used to trap there, indexing the program's maps).
        let loaded = try LoadedObject(object)
        let loadError = #expect(throws: ObjectError.self) { try loaded.load(targetBTF: object.btf) }
        #expect(loaded.programs.isEmpty)

        let linkError = #expect(throws: ObjectError.self) { try Linker.link(object, program: "prog") }
        #expect(loadError == linkError)
        guard case .link("prog", marker.slot, let reason)? = linkError else {
            Issue.record("expected a link error at instruction \(marker.slot), got \(String(describing: linkError))")
            return
        }
        let name = Self.pseudoSources.first { $0.src == src }?.name
        #expect(reason.contains("src \(src)"), "\(reason)")
        if let name { #expect(reason.contains(name), "\(reason)") }
        #expect(reason.contains("no relocation"), "\(reason)")
        // The location is said once, by the error, not again in the reason.
        #expect(!reason.contains("prog") && !reason.contains("instruction"), "\(reason)")
    }

    @Test("the unpatched marker program loads and runs: the surgery alone breaks nothing")
    func markerProgramLoads() throws {
        let bytes = try BPFCompiler.compile(Self.markerProgram)
        _ = try ObjectSurgery.marker(in: bytes, section: "socket")
        let loaded = try LoadedObject(Object(bytes: bytes, name: "pseudo"))
        try loaded.load(targetBTF: loaded.object.btf)
        var context = [UInt8](repeating: 0, count: 64)
        let result = try context.withUnsafeMutableBytes { try loaded.program(named: "prog").run(memory: $0) }
        #expect(result == 0)
        #expect(try loaded.global("total", as: UInt64.self) == 0x1122_3344_5566_7788)
    }

    // MARK: - Symbols whose values do not fit their sections (st_value and st_size are raw 64-bit numbers)

    /// A program with a subprogram, a callback and a global, so that `.text`, `.bss` and their symbols exist.
    static let symbolProgram = header + """
        struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
        __u64 total;
        static __attribute__((noinline)) int helper(int x) { return x * 3; }
        static long callback(__u64 index, void *ctx) { total += index; return 0; }
        SEC("socket") int prog(void *ctx)
        {
            __u32 key = 0;
            __u64 *count = bpf_map_lookup_elem(&counts, &key);
            bpf_loop(4, callback, 0, 0);
            return helper((int)total) + (count ? (int)*count : 0);
        }
        """

    @Test("a program symbol past its section's end is named, not converted to a trapping Int (fuzzer crash)",
          arguments: [(UInt64(1) << 63, nil), (UInt64.max - 9, nil), (0, UInt64.max), (8, UInt64(1) << 62)] as [(UInt64, UInt64?)])
    func programSymbolOutOfRange(value: UInt64, size: UInt64?) throws {
        var bytes = try BPFCompiler.compile(Self.symbolProgram)
        try ObjectSurgery.setSymbol(&bytes, named: "prog", value: value, size: size)
        let error = #expect(throws: ObjectError.self) { try Object(bytes: bytes, name: "symbols") }
        guard case .invalidSymbol("prog", let reason)? = error else {
            Issue.record("expected an invalid symbol error, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("program at offset \(value)") && reason.contains("crosses the end of section 'socket'"),
                "\(reason)")
    }

    @Test("a map symbol past the end of .maps is named")
    func mapSymbolOutOfRange() throws {
        var bytes = try BPFCompiler.compile(Self.symbolProgram)
        try ObjectSurgery.setSymbol(&bytes, named: "counts", value: 1 << 63)
        let error = #expect(throws: ObjectError.self) { try Object(bytes: bytes, name: "symbols") }
        guard case .invalidSymbol("counts", let reason)? = error else {
            Issue.record("expected an invalid symbol error, got \(String(describing: error))")
            return
        }
        #expect(reason.hasPrefix("map at offset 9223372036854775808") && reason.contains("'.maps'"), "\(reason)")
    }

    @Test("a global variable that does not fit its section is refused (the host's accessors would run past the value)",
          arguments: [UInt64(8), 1 << 63])
    func variableOutOfRange(value: UInt64) throws {
        var bytes = try BPFCompiler.compile(Self.symbolProgram)
        try ObjectSurgery.setSymbol(&bytes, named: "total", value: value)
        #expect(throws: ObjectError.invalidSymbol(name: "total", reason: "variable at offset \(value), 8 bytes, crosses"
                                                  + " the end of section '.bss' (8 bytes)")) {
            try Object(bytes: bytes, name: "symbols")
        }
    }

    @Test("a subprogram or section symbol past its section's end fails linking, never traps",
          arguments: ["helper", ".text"])
    func textSymbolOutOfRange(symbol: String) throws {
        var bytes = try BPFCompiler.compile(Self.symbolProgram)
        try ObjectSurgery.setSymbol(&bytes, named: symbol, value: 1 << 63)
        let object = try Object(bytes: bytes, name: "symbols")
        let error = #expect(throws: ObjectError.self) { try LoadedObject(object).load(targetBTF: object.btf) }
        guard case .link("prog", _, let reason)? = error else {
            Issue.record("expected a link error, got \(String(describing: error))")
            return
        }
        if symbol == "helper" {
            #expect(reason.contains("function 'helper' has a bad range 9223372036854775808..<"), "\(reason)")
        } else {
            #expect(reason.contains("which is in no function") || reason.contains("past the end of section '.text'"),
                    "\(reason)")
        }
    }

    /// Fuzzer crash: the variable fit the header's size, but a section of type SHT_NULL has no data, so its map
    /// value was one byte and the host's `global(_:)` read past it.
    @Test("a global-data section whose type holds no data cannot hold variables")
    func variablesInSectionWithoutData() throws {
        var bytes = try BPFCompiler.compile(Self.header + """
            const volatile __u64 limit = 5;
            SEC("socket") int prog(void *ctx) { return limit; }
            """)
        let header = try ObjectSurgery.sectionHeader(bytes, named: ".rodata")
        ObjectSurgery.put(&bytes, header + 4, UInt32(0))  // sh_type SHT_NULL
        #expect(throws: ObjectError.invalidSymbol(name: "limit", reason: "variable at offset 0, 8 bytes, crosses the end"
                                                  + " of section '.rodata' (0 bytes)")) {
            try Object(bytes: bytes, name: "nulltype")
        }
    }

    @Test("a NOBITS global-data section larger than a map value is refused before its zeros are allocated")
    func hugeBSS() throws {
        var bytes = try BPFCompiler.compile(Self.symbolProgram)
        let header = try ObjectSurgery.sectionHeader(bytes, named: ".bss")
        ObjectSurgery.put(&bytes, header + 32, UInt64(1) << 40)  // sh_size
        #expect(throws: ObjectError.invalidMap(name: "symbols.bss", reason: "section '.bss' is 1099511627776 bytes,"
                                               + " more than the 4194304 bytes a map value may hold")) {
            try Object(bytes: bytes, name: "symbols")
        }
    }

    @Test("global data up to the largest map value loads; one byte more is refused")
    func globalDataLimit() throws {
        func source(_ size: Int) -> String {
            Self.header + "char big[\(size)]; SEC(\"socket\") int prog(void *ctx) { return big[0]; }"
        }
        let loaded = try LoadedObject(Object(bytes: BPFCompiler.compile(source(MapDefinition.maximumValueSize)),
                                             name: "big"))
        try loaded.load()
        let size = MapDefinition.maximumValueSize + 1
        #expect(throws: ObjectError.invalidMap(name: "big.bss", reason: "section '.bss' is \(size) bytes, more than the"
                                               + " \(MapDefinition.maximumValueSize) bytes a map value may hold")) {
            try Object(bytes: BPFCompiler.compile(source(size)), name: "big")
        }
    }

    // MARK: - Maps the binder could confuse

    @Test("two global-data sections whose map names collide after the kernel's 15-character cut are refused")
    func truncatedMapNamesCollide() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            int first SEC(".data.counters_one") = 1;
            int second SEC(".data.counters_two") = 2;
            SEC("socket") int prog(void *ctx) { return first + second; }
            """)
        let error = #expect(throws: ObjectError.self) { try Object(bytes: bytes, name: "names") }
        guard case .invalidMap(".data.counters_", let reason)? = error else {
            Issue.record("expected an invalid map error, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("same name"), "\(reason)")
    }

    @Test("a BTF map named like a global-data map is refused (binding would take one for the other)")
    func mapNamedLikeGlobalData() throws {
        var bytes = try BPFCompiler.compile(Self.header + """
            struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); __type(key, __u64); __type(value, __u64); } names_bss SEC(".maps");
            __u64 total;
            SEC("socket") int prog(void *ctx)
            {
                __u64 key = 0;
                __u64 *value = bpf_map_lookup_elem(&names_bss, &key);
                return (value ? *value : 0) + total;
            }
            """)
        // "names.bss" is the .bss map of an object called "names"; C identifiers cannot hold the dot.
        #expect(ObjectSurgery.replace(&bytes, "names_bss", with: "names.bss") >= 2)
        let error = #expect(throws: ObjectError.self) { try Object(bytes: bytes, name: "names") }
        switch error {
        case .invalidMap("names.bss", let reason)?: #expect(reason.contains("same name"), "\(reason)")
        case .btf?: break  // a BTF reader that refuses the dot in a VAR name is as good
        default: Issue.record("expected an invalid map error, got \(String(describing: error))")
        }
    }

    // MARK: - CO-RE records that point where they must not

    static let coreProgram = header + """
        #include <bpf/bpf_core_read.h>
        struct task { int a0, a1, a2, a3, a4, a5, a6, a7, a8, cells[2][2][2][2][2][2][2][2], pid; }
            __attribute__((preserve_access_index));
        struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
        SEC("socket") int prog(struct task *t)
        {
            __u32 key = 0;
            __u64 *count = bpf_map_lookup_elem(&counts, &key);
            return (count ? (int)*count : 0) + bpf_core_field_offset(t->cells[1][1][1][1][1][1][1][1]);
        }
        """

    /// The CO-RE access string of `coreProgram`: the root, member 9 (`cells`), and eight subscripts.
    static let coreAccess = "0:9:1:1:1:1:1:1:1:1"

    /// A root type of almost 512 MiB (LLVM writes sizes computed in 32-bit bits), so that a 10-digit root index
    /// times its size times 8 overflows 64 bits.
    static let hugeCoreProgram = header + """
        #include <bpf/bpf_core_read.h>
        struct task { int cells[2][2][2][2][2]; char pad[0x1fffff00]; } __attribute__((preserve_access_index));
        SEC("socket") int prog(struct task *t) { return bpf_core_field_offset(t->cells[1][1][1][1][1]); }
        """

    /// The BTF reader admits indices of up to 10 digits; the offset arithmetic used to trap on them. libbpf reads
    /// each index as a C int.
    @Test("CO-RE access indices past a C int, or offsets past 64 bits, are refused, never trap",
          arguments: [("9999999999:00", "malformed access string '9999999999:00'"),
                      ("2147483647:00", "the instruction holds 124, but the local BTF gives 1152921229192069248")])
    func accessIndexOverflow(access: String, message: String) throws {
        var bytes = try BPFCompiler.compile(Self.hugeCoreProgram)
        #expect(ObjectSurgery.replace(&bytes, "\0" + "0:0:1:1:1:1:1" + "\0", with: "\0" + access + "\0") == 1)
        let object = try Object(bytes: bytes, name: "core")
        #expect(object.btfExt?.coreRelocations["socket"]?.first?.accessString == access)
        _ = try Linker.link(object, program: "prog")  // without a target the compiled-in value stands
        let error = #expect(throws: ObjectError.self) {
            try Linker.link(object, program: "prog", targetBTF: object.btf)
        }
        guard case .core("prog", _, let reason)? = error else {
            Issue.record("expected a CO-RE error, got \(String(describing: error))")
            return
        }
        #expect(reason.contains(message), "\(reason)")
    }

    /// It would have rewritten the map index the binder follows.
    @Test("a CO-RE relocation on an lddw the linker made a map reference is refused")
    func coreRelocationOnMapReference() throws {
        var bytes = try BPFCompiler.compile(Self.coreProgram)
        let elf = try ELFFile(bytes: bytes)
        let socket = try #require(elf.section(named: "socket"))
        let mapLoad = try #require(elf.relocations(for: socket).first { elf.symbols[$0.symbolIndex].name == "counts" })
        let object = try Object(bytes: bytes, name: "core")
        let record = try #require(object.btfExt?.coreRelocations["socket"]?.first)
        // Point the record (insn_off, type_id) at the map's lddw.
        let ext = try #require(elf.section(named: ".BTF.ext"))
        var patched = 0
        for offset in stride(from: ext.offset, to: ext.offset + ext.size - 8, by: 4) {
            let words = bytes[offset..<offset + 8].withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
            if words[0] == UInt32(record.instructionOffset) && words[1] == record.typeID {
                ObjectSurgery.put(&bytes, offset, UInt32(mapLoad.offset))
                patched += 1
            }
        }
        try #require(patched == 1)
        let object2 = try Object(bytes: bytes, name: "core")
        // Without a target BTF the compiled-in values stand and nothing is patched.
        _ = try Linker.link(object2, program: "prog")
        let slot = Int(mapLoad.offset / 8)
        let expected = ObjectError.core(program: "prog", instruction: slot, reason: "relocation #0 <byte_off> [16] struct"
            + " task.cells[1][1][1][1][1][1][1][1] (\(Self.coreAccess) @ offset 1056): an lddw that is not a plain 64-bit"
            + " constant (src 5)")
        #expect(throws: expected) { try Linker.link(object2, program: "prog", targetBTF: object2.btf) }
        #expect(expected.description == "program 'prog', instruction \(slot): CO-RE relocation #0 <byte_off> [16]"
            + " struct task.cells[1][1][1][1][1][1][1][1] (\(Self.coreAccess) @ offset 1056): an lddw that is not a"
            + " plain 64-bit constant (src 5)")
        #expect(throws: expected) { try LoadedObject(object2).load(targetBTF: object2.btf) }
    }

    // MARK: - Map sizes that would take the host's memory

    @Test("map capacities past the documented limits fail with E2BIG naming the field",
          arguments: [
            ("BPF_MAP_TYPE_HASH", "__u32", "__u64", "(1 << 24) + 1", "max_entries 16777217 exceeds 16777216 for hash"),
            ("BPF_MAP_TYPE_LRU_HASH", "__u32", "__u64", "1 << 29", "max_entries 536870912 exceeds 16777216 for lru_hash"),
            ("BPF_MAP_TYPE_PROG_ARRAY", "__u32", "__u32", "(1 << 20) + 1", "max_entries 1048577 exceeds 1048576 for prog_array"),
            ("BPF_MAP_TYPE_ARRAY", "__u32", "struct page", "1 << 29", "storage of 536870912 × 4096 bytes exceeds"),
            ("BPF_MAP_TYPE_QUEUE", "", "struct page", "0x3fffffff", "storage of 1073741823 × 4096 bytes exceeds"),
          ])
    func mapLimits(type: String, key: String, value: String, entries: String, message: String) throws {
        let keyLine = key.isEmpty ? "" : "__type(key, \(key));"
        let bytes = try BPFCompiler.compile(Self.header + """
            struct page { char bytes[4096]; };
            struct { __uint(type, \(type)); __uint(max_entries, \(entries)); \(keyLine) __type(value, \(value)); } big SEC(".maps");
            SEC("socket") int prog(void *ctx) { return bpf_map_lookup_elem(&big, &(__u32){0}) != 0; }
            """)
        let object = try Object(bytes: bytes, name: "limits")
        let error = #expect(throws: ObjectError.self) { try LoadedObject(object) }
        guard case .invalidMap("big", let reason)? = error else {
            Issue.record("expected an invalid map error, got \(String(describing: error))")
            return
        }
        #expect(reason.contains(message), "\(reason)")
        #expect(reason.contains("too large"), "\(reason)")
    }

    @Test("an object's maps may write at most 1 GiB when created, whatever each one's capacity")
    func objectCreationLimit() throws {
        func source(maps: Int) -> String {
            let declarations = (0..<maps).map {
                "struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1 << 24); __type(key, __u32);"
                    + " __type(value, __u64); } h\($0) SEC(\".maps\");"
            }
            let uses = (0..<maps).map { "(bpf_map_lookup_elem(&h\($0), &key) != 0)" }
            return Self.header + declarations.joined(separator: "\n") + """

                SEC("socket") int prog(void *ctx) { __u32 key = 0; return \(uses.joined(separator: " + ")); }
                """
        }
        // Eight hash maps of the largest capacity write 8 × 128 MiB of buckets: the limit exactly.
        let eight = try Object(bytes: BPFCompiler.compile(source(maps: 8)), name: "many")
        let creationBytes = try eight.maps.map { try $0.runtimeDefinition().creationBytes }.reduce(0, +)
        #expect(creationBytes == MapDefinition.maximumObjectCreationBytes)
        let bytes = 9 << 27
        #expect(throws: ObjectError.invalidMap(name: "h8", reason: "the object's maps up to this one would write"
            + " \(bytes) bytes when created (hash buckets, program array slots), more than the 1073741824 one object may")) {
            try Object(bytes: BPFCompiler.compile(source(maps: 9)), name: "many")
        }
    }

    @Test("capacities real programs use stay within the limits")
    func mapLimitsAdmitRealSizes() throws {
        let definitions = [
            MapDefinition(name: "conntrack", type: .lruHash, keySize: 16, valueSize: 64, maxEntries: 1 << 20),
            MapDefinition(name: "calls", type: .programArray, keySize: 4, valueSize: 4,
                          maxEntries: MapDefinition.maximumProgramArrayEntries),
            MapDefinition(name: "histogram", type: .array, keySize: 4, valueSize: 4096, maxEntries: 1 << 20),
        ]
        for definition in definitions { _ = try Map(definition) }
        #expect(definitions.map(\.creationBytes) == [8 << 20, 16 << 20, 0])
        #expect(MapDefinition(name: "h", type: .hash, keySize: 4, valueSize: 8, maxEntries: 1000).creationBytes == 8192)
        #expect(MapDefinition(name: "q", type: .queue, keySize: 0, valueSize: 8, maxEntries: 1 << 20).creationBytes == 0)
        let error = #expect(throws: MapError.self) {
            try Map(MapDefinition(name: "huge", type: .hash, keySize: 4, valueSize: 8,
                                  maxEntries: MapDefinition.maximumHashEntries + 1))
        }
        #expect(error?.errno == -7)  // E2BIG
    }
}
