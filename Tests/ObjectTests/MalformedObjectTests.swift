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
}
