import Foundation
import Testing
import TestSupport
@testable import BPFVM

// MARK: - A byte-level builder for small BPF objects

/// A small ELF64 BPF object described field by field, so that a test can break exactly one thing and rebuild.
///
/// Layout: the 64-byte header, then each section's data (8-byte aligned, NOBITS taking no space), then the section
/// header table. `.strtab` (which also names the sections, as LLVM does) is generated from the section and symbol
/// names; `.symtab` and `.relsocket` are generated from `symbols` and `relocations` unless their data is set.
private struct ELFTestObject: Sendable {
    struct Section: Sendable {
        var name: String
        var type: UInt32
        var flags: UInt64 = 0
        /// The section's bytes; nil for the generated `.strtab`, `.symtab` and REL sections and for NOBITS.
        var data: [UInt8]?
        var size: UInt64?
        var offset: UInt64?
        var link: UInt32 = 0
        var info: UInt32 = 0
        var alignment: UInt64 = 8
        var entrySize: UInt64 = 0
        var nameOffset: UInt32?
    }

    struct Symbol: Sendable {
        var name: String
        var info: UInt8
        var other: UInt8 = 0
        var sectionIndex: UInt16
        var value: UInt64 = 0
        var size: UInt64 = 0
        var nameOffset: UInt32?
    }

    struct Relocation: Sendable {
        var offset: UInt64
        var type: UInt32
        var symbol: UInt64
    }

    /// The result of ``build()``: the bytes, and where things ended up.
    struct Built {
        var bytes: [UInt8]
        var sectionHeaderOffset: Int
        var dataOffsets: [Int]
        var stringTableSize: Int
    }

    var ident: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    var type: UInt16 = 1
    var machine: UInt16 = 247
    var version: UInt32 = 1
    var headerSize: UInt16 = 64
    var sectionHeaderSize: UInt16 = 64
    var sectionHeaderOffset: UInt64?
    var sectionCount: UInt16?
    var nameTableIndex: UInt16 = 7
    var sections: [Section]
    var symbols: [Symbol]
    var relocations: [Relocation]
    /// Bytes appended to the generated string table (to plant an unterminated name, say).
    var stringTableSuffix: [UInt8] = []

    static let text = 1, socket = 2, relSocket = 3, bss = 4, maps = 5, symtab = 6, strtab = 7

    /// A valid object: `.text` (`r0 = 0; exit`), `socket` (`lddw r1, counts; call .text; exit`) with its two
    /// relocations, `.bss`, `.maps`, `.symtab` and `.strtab`.
    static let valid = ELFTestObject(
        sections: [
            Section(name: "", type: 0, data: [], alignment: 0),
            Section(name: ".text", type: 1, flags: 0x6, data: [
                0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0,
            ]),
            Section(name: "socket", type: 1, flags: 0x6, data: [
                0x18, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x95, 0, 0, 0, 0, 0, 0, 0,
            ]),
            Section(name: ".relsocket", type: 9, flags: 0x40, link: 6, info: 2, entrySize: 16),
            Section(name: ".bss", type: 8, flags: 0x3, size: 8),
            Section(name: ".maps", type: 1, flags: 0x3, data: [UInt8](repeating: 0, count: 8)),
            Section(name: ".symtab", type: 2, link: 7, info: 3, entrySize: 24),
            Section(name: ".strtab", type: 3, alignment: 1),
        ],
        symbols: [
            Symbol(name: "", info: 0, sectionIndex: 0),
            Symbol(name: "prog.c", info: 0x04, sectionIndex: 0xfff1),
            Symbol(name: "", info: 0x03, sectionIndex: 1),
            Symbol(name: "prog", info: 0x12, sectionIndex: 2, size: 32),
            Symbol(name: "counts", info: 0x11, sectionIndex: 5, size: 8),
            Symbol(name: "seen", info: 0x11, other: 2, sectionIndex: 4, size: 8),
        ],
        relocations: [
            Relocation(offset: 0, type: 1, symbol: 4),
            Relocation(offset: 16, type: 10, symbol: 2),
        ])

    func build() -> Built {
        // The string table: a NUL, then every distinct name.
        var strings: [UInt8] = [0]
        var offsets: [String: UInt32] = ["": 0]
        func intern(_ name: String) {
            guard offsets[name] == nil else { return }
            offsets[name] = UInt32(strings.count)
            strings += Array(name.utf8) + [0]
        }
        sections.forEach { intern($0.name) }
        symbols.forEach { intern($0.name) }
        strings += stringTableSuffix

        var bytes = [UInt8](repeating: 0, count: 64)
        var dataOffsets: [Int] = []
        var sizes: [UInt64] = []
        for (index, section) in sections.enumerated() {
            var data = section.data ?? []
            if section.data == nil {
                if section.type == 3 { data = strings }
                if section.type == 2 { data = symbols.flatMap { encode($0, offsets) } }
                if section.type == 9 { data = relocations.flatMap(encode) }
            }
            while bytes.count % 8 != 0 { bytes.append(0) }
            dataOffsets.append(index == 0 ? 0 : bytes.count)
            if section.type != 8 { bytes += data }
            sizes.append(section.size ?? UInt64(data.count))
        }
        while bytes.count % 8 != 0 { bytes.append(0) }
        let tableOffset = bytes.count
        for (index, section) in sections.enumerated() {
            bytes += le(section.nameOffset ?? offsets[section.name]!) + le(section.type) + le(section.flags)
                + le(UInt64(0)) + le(section.offset ?? UInt64(dataOffsets[index])) + le(sizes[index])
                + le(section.link) + le(section.info) + le(section.alignment) + le(section.entrySize)
        }
        bytes.replaceSubrange(0..<16, with: ident)
        put(&bytes, 16, type)
        put(&bytes, 18, machine)
        put(&bytes, 20, version)
        put(&bytes, 40, sectionHeaderOffset ?? UInt64(tableOffset))
        put(&bytes, 52, headerSize)
        put(&bytes, 58, sectionHeaderSize)
        put(&bytes, 60, sectionCount ?? UInt16(sections.count))
        put(&bytes, 62, nameTableIndex)
        return Built(bytes: bytes, sectionHeaderOffset: tableOffset, dataOffsets: dataOffsets,
                     stringTableSize: strings.count)
    }

    private func encode(_ symbol: Symbol, _ offsets: [String: UInt32]) -> [UInt8] {
        le(symbol.nameOffset ?? offsets[symbol.name]!) + [symbol.info, symbol.other] + le(symbol.sectionIndex)
            + le(symbol.value) + le(symbol.size)
    }

    private func encode(_ relocation: Relocation) -> [UInt8] {
        le(relocation.offset) + le(relocation.symbol << 32 | UInt64(relocation.type))
    }
}

private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

private func put<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ offset: Int, _ value: T) {
    bytes.replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: le(value))
}

// MARK: - Malformed inputs, each with its specific error

/// One way to break the valid object, and the exact error the reader must report.
private struct ELFMalformedCase: Sendable, CustomTestStringConvertible {
    let name: String
    var change: @Sendable (inout ELFTestObject) -> Void = { _ in }
    var patch: @Sendable (inout [UInt8], ELFTestObject.Built) -> Void = { _, _ in }
    let expected: @Sendable (ELFTestObject.Built) -> ELFError
    var testDescription: String { name }

    func run() -> (error: ELFError?, expected: ELFError) {
        var object = ELFTestObject.valid
        change(&object)
        let built = object.build()
        var bytes = built.bytes
        patch(&bytes, built)
        do {
            _ = try ELFFile(bytes: bytes)
            return (nil, expected(built))
        } catch {
            return (error, expected(built))
        }
    }
}

private func elfCase(
    _ name: String, change: @escaping @Sendable (inout ELFTestObject) -> Void,
    _ location: String, _ reason: @escaping @Sendable (ELFTestObject.Built) -> ELFError.Reason
) -> ELFMalformedCase {
    ELFMalformedCase(name: name, change: change, expected: { ELFError(location: location, reason: reason($0)) })
}

private func elfCase(
    _ name: String, patch: @escaping @Sendable (inout [UInt8], ELFTestObject.Built) -> Void,
    _ location: String, _ reason: @escaping @Sendable (ELFTestObject.Built) -> ELFError.Reason
) -> ELFMalformedCase {
    ELFMalformedCase(name: name, patch: patch, expected: { ELFError(location: location, reason: reason($0)) })
}

private let elfHeader = "ELF header"
private typealias Obj = ELFTestObject

private let elfMalformedCases: [ELFMalformedCase] = [
    // ELF header
    elfCase("empty file", patch: { b, _ in b = [] }, elfHeader, { _ in .truncatedHeader(fileSize: 0) }),
    elfCase("truncated header", patch: { b, _ in b.removeLast(b.count - 40) }, elfHeader,
            { _ in .truncatedHeader(fileSize: 40) }),
    elfCase("not ELF", patch: { b, _ in b[1] = 0x50 }, elfHeader, { _ in .badMagic }),
    elfCase("short non-ELF file", patch: { b, _ in b = Array("#!".utf8) }, elfHeader, { _ in .badMagic }),
    elfCase("32-bit class", change: { $0.ident[4] = 1 }, elfHeader, { _ in .wrongClass(1) }),
    elfCase("invalid class", change: { $0.ident[4] = 0 }, elfHeader, { _ in .wrongClass(0) }),
    elfCase("big-endian", change: { $0.ident[5] = 2 }, elfHeader, { _ in .wrongByteOrder(2) }),
    elfCase("EI_VERSION 0", change: { $0.ident[6] = 0 }, elfHeader, { _ in .wrongVersion(0) }),
    elfCase("e_version 2", change: { $0.version = 2 }, elfHeader, { _ in .wrongVersion(2) }),
    elfCase("x86-64 machine", change: { $0.machine = 62 }, elfHeader, { _ in .wrongMachine(62) }),
    elfCase("no machine", change: { $0.machine = 0 }, elfHeader, { _ in .wrongMachine(0) }),
    elfCase("executable", change: { $0.type = 2 }, elfHeader, { _ in .wrongType(2) }),
    elfCase("shared object", change: { $0.type = 3 }, elfHeader, { _ in .wrongType(3) }),
    elfCase("e_ehsize 52", change: { $0.headerSize = 52 }, elfHeader, { _ in .wrongHeaderSize(52) }),
    elfCase("e_shentsize 40", change: { $0.sectionHeaderSize = 40 }, elfHeader,
            { _ in .wrongSectionHeaderSize(40) }),
    elfCase("e_shoff 0", change: { $0.sectionHeaderOffset = 0 }, elfHeader, { _ in .noSectionHeaders }),

    // Section header table
    elfCase("e_shoff past the end", change: { $0.sectionHeaderOffset = 1 << 20 }, elfHeader,
            { .sectionHeadersOutOfRange(offset: 1 << 20, count: 8, fileSize: $0.bytes.count) }),
    elfCase("e_shoff near 2^64", change: { $0.sectionHeaderOffset = .max - 63 }, elfHeader,
            { .sectionHeadersOutOfRange(offset: .max - 63, count: 8, fileSize: $0.bytes.count) }),
    elfCase("e_shnum too large", change: { $0.sectionCount = 9 }, elfHeader, {
        .sectionHeadersOutOfRange(offset: UInt64($0.sectionHeaderOffset), count: 9, fileSize: $0.bytes.count)
    }),
    elfCase("extended count 2^60", change: { $0.sectionCount = 0; $0.sections[0].size = 1 << 60 }, elfHeader, {
        .sectionHeadersOutOfRange(offset: UInt64($0.sectionHeaderOffset), count: 1 << 60, fileSize: $0.bytes.count)
    }),
    elfCase("extended count 0", change: { $0.sectionCount = 0 }, elfHeader, { _ in .noSectionHeaders }),
    elfCase("section 0 not null", change: { $0.sections[0].type = 1 }, "section header 0",
            { _ in .firstSectionNotNull(type: 1) }),
    elfCase("e_shstrndx 0", change: { $0.nameTableIndex = 0 }, elfHeader, { _ in .missingSectionNameTable }),
    elfCase("e_shstrndx past the sections", change: { $0.nameTableIndex = 8 }, elfHeader,
            { _ in .sectionNameTableOutOfRange(index: 8, sectionCount: 8) }),
    elfCase("e_shstrndx reserved", change: { $0.nameTableIndex = 0xff05 }, elfHeader,
            { _ in .sectionNameTableOutOfRange(index: 0xff05, sectionCount: 8) }),
    elfCase("SHN_XINDEX with sh_link 0", change: { $0.nameTableIndex = 0xffff }, elfHeader,
            { _ in .missingSectionNameTable }),
    elfCase("SHN_XINDEX with sh_link past the sections",
            change: { $0.nameTableIndex = 0xffff; $0.sections[0].link = 99 }, elfHeader,
            { _ in .sectionNameTableOutOfRange(index: 99, sectionCount: 8) }),
    elfCase("e_shstrndx names .text", change: { $0.nameTableIndex = 1 }, "section header 1",
            { _ in .notAStringTable(index: 1, type: 1) }),
    elfCase("section name table past the end", change: { $0.sections[Obj.strtab].size = 1 << 32 }, "section header 7",
            { .dataOutOfRange(offset: UInt64($0.dataOffsets[Obj.strtab]), size: 1 << 32, fileSize: $0.bytes.count) }),
    elfCase("compressed section name table", change: { $0.sections[Obj.strtab].flags = 0x800 }, "section header 7",
            { _ in .compressedTable }),

    // Sections
    elfCase("section data past the end", change: { $0.sections[Obj.maps].offset = 1 << 16 }, ".maps",
            { .dataOutOfRange(offset: 1 << 16, size: 8, fileSize: $0.bytes.count) }),
    elfCase("section data straddling the end",
            patch: { b, built in put(&b, built.sectionHeaderOffset + 5 * 64 + 32, UInt64(b.count)) }, ".maps",
            { .dataOutOfRange(offset: UInt64($0.dataOffsets[Obj.maps]), size: UInt64($0.bytes.count),
                              fileSize: $0.bytes.count) }),
    elfCase("section offset + size overflows", change: {
        $0.sections[Obj.maps].offset = .max - 15; $0.sections[Obj.maps].size = 32
    }, ".maps", { .dataOutOfRange(offset: .max - 15, size: 32, fileSize: $0.bytes.count) }),
    elfCase("name offset past the string table", change: { $0.sections[Obj.maps].nameOffset = 10_000 },
            "section header 5", { .nameOutOfRange(offset: 10_000, tableSize: $0.stringTableSize) }),
    elfCase("name offset at the string table's end",
            patch: { b, built in put(&b, built.sectionHeaderOffset + 5 * 64, UInt32(built.stringTableSize)) },
            "section header 5", { .nameOutOfRange(offset: UInt64($0.stringTableSize), tableSize: $0.stringTableSize) }),
    ELFMalformedCase(
        name: "unterminated name", change: { $0.stringTableSuffix = Array("abc".utf8) },
        patch: { b, built in put(&b, built.sectionHeaderOffset + 5 * 64, UInt32(built.stringTableSize - 3)) },
        expected: { ELFError(location: "section header 5",
                             reason: .unterminatedName(offset: UInt64($0.stringTableSize - 3))) }),
    elfCase("alignment 3", change: { $0.sections[Obj.maps].alignment = 3 }, ".maps", { _ in .badAlignment(3) }),
    elfCase("NOBITS size past Int.max", change: { $0.sections[Obj.bss].size = 1 << 63 }, ".bss",
            { _ in .valueTooLarge(field: "sh_size", value: 1 << 63) }),
    elfCase("RELA section", change: { $0.sections[Obj.relSocket].type = 4 }, ".relsocket",
            { _ in .relaNotSupported }),

    // Symbol table
    elfCase("symtab entsize 16", change: { $0.sections[Obj.symtab].entrySize = 16 }, ".symtab",
            { _ in .wrongEntrySize(16, expected: 24) }),
    elfCase("symtab size not a multiple of 24", change: { $0.sections[Obj.symtab].size = 140 }, ".symtab",
            { _ in .sizeNotMultipleOfEntrySize(size: 140, entrySize: 24) }),
    elfCase("empty symtab", change: { $0.symbols = []; $0.relocations = [] }, ".symtab",
            { _ in .emptySymbolTable }),
    elfCase("two symtabs", change: {
        $0.sections[Obj.maps] = .init(name: ".maps", type: 2, data: [UInt8](repeating: 0, count: 24), link: 7,
                                    entrySize: 24)
    }, ".symtab", { _ in .duplicateSymbolTable(firstIndex: 5) }),
    elfCase("symtab linked to .text", change: { $0.sections[Obj.symtab].link = 1 }, ".symtab",
            { _ in .badLink(link: 1, expected: "a string table (SHT_STRTAB)") }),
    elfCase("symtab linked past the sections", change: { $0.sections[Obj.symtab].link = 99 }, ".symtab",
            { _ in .badLink(link: 99, expected: "a string table (SHT_STRTAB)") }),
    elfCase("symtab linked to a compressed string table", change: {
        $0.sections[Obj.maps] = .init(name: ".maps", type: 3, flags: 0x800, data: [0]); $0.sections[Obj.symtab].link = 5
    }, ".maps", { _ in .compressedTable }),
    elfCase("symtab first global past the end", change: { $0.sections[Obj.symtab].info = 7 }, ".symtab",
            { _ in .badInfo(info: 7, expected: "the first non-local symbol (at most the 6 symbols)") }),
    elfCase("symbol in section 40", change: { $0.symbols[5].sectionIndex = 40 }, ".symtab",
            { _ in .symbolSectionOutOfRange(symbol: 5, sectionIndex: 40, sectionCount: 8) }),
    elfCase("symbol in section 8", change: { $0.symbols[3].sectionIndex = 8 }, ".symtab",
            { _ in .symbolSectionOutOfRange(symbol: 3, sectionIndex: 8, sectionCount: 8) }),
    elfCase("symbol with SHN_XINDEX", change: { $0.symbols[4].sectionIndex = 0xffff }, ".symtab",
            { _ in .symbolSectionOutOfRange(symbol: 4, sectionIndex: 0xffff, sectionCount: 8) }),
    elfCase("symbol name past the string table", change: { $0.symbols[4].nameOffset = 500 }, ".symtab symbol 4",
            { .nameOutOfRange(offset: 500, tableSize: $0.stringTableSize) }),

    // Relocations
    elfCase("REL entsize 24", change: { $0.sections[Obj.relSocket].entrySize = 24 }, ".relsocket",
            { _ in .wrongEntrySize(24, expected: 16) }),
    elfCase("REL size not a multiple of 16", change: { $0.sections[Obj.relSocket].size = 24 }, ".relsocket",
            { _ in .sizeNotMultipleOfEntrySize(size: 24, entrySize: 16) }),
    elfCase("REL linked to the string table", change: { $0.sections[Obj.relSocket].link = 7 }, ".relsocket",
            { _ in .badLink(link: 7, expected: "the symbol table (SHT_SYMTAB)") }),
    elfCase("REL linked to section 0", change: { $0.sections[Obj.relSocket].link = 0 }, ".relsocket",
            { _ in .badLink(link: 0, expected: "the symbol table (SHT_SYMTAB)") }),
    elfCase("REL for section 0", change: { $0.sections[Obj.relSocket].info = 0 }, ".relsocket",
            { _ in .badInfo(info: 0, expected: "a section with file data to relocate") }),
    elfCase("REL for .bss", change: { $0.sections[Obj.relSocket].info = 4 }, ".relsocket",
            { _ in .badInfo(info: 4, expected: "a section with file data to relocate") }),
    elfCase("REL for section 99", change: { $0.sections[Obj.relSocket].info = 99 }, ".relsocket",
            { _ in .badInfo(info: 99, expected: "a section with file data to relocate") }),
    elfCase("lddw relocation past the end", change: { $0.relocations[0].offset = 24 }, ".relsocket",
            { _ in .relocationOutOfRange(relocation: 0, offset: 24, width: 16, targetSize: 32) }),
    elfCase("call relocation past the end", change: { $0.relocations[1].offset = 32 }, ".relsocket",
            { _ in .relocationOutOfRange(relocation: 1, offset: 32, width: 8, targetSize: 32) }),
    elfCase("ABS32 relocation straddling the end", change: { $0.relocations[1] = .init(offset: 29, type: 3, symbol: 2) },
            ".relsocket", { _ in .relocationOutOfRange(relocation: 1, offset: 29, width: 4, targetSize: 32) }),
    elfCase("relocation offset near 2^64", change: { $0.relocations[0].offset = .max - 7 }, ".relsocket",
            { _ in .relocationOutOfRange(relocation: 0, offset: .max - 7, width: 16, targetSize: 32) }),
    elfCase("relocation symbol 6 of 6", change: { $0.relocations[1].symbol = 6 }, ".relsocket",
            { _ in .relocationSymbolOutOfRange(relocation: 1, symbol: 6, symbolCount: 6) }),
    elfCase("relocation symbol 2^32 - 1", change: { $0.relocations[0].symbol = 0xffff_ffff }, ".relsocket",
            { _ in .relocationSymbolOutOfRange(relocation: 0, symbol: 0xffff_ffff, symbolCount: 6) }),
    elfCase("relocation type 7", change: { $0.relocations[0].type = 7 }, ".relsocket",
            { _ in .unknownRelocationType(relocation: 0, type: 7) }),
    elfCase("relocation for a compressed section without a header", change: {
        $0.sections[Obj.maps].flags = 0x800; $0.relocations[1] = .init(offset: 0, type: 2, symbol: 4)
        $0.sections[Obj.relSocket].info = 5
    }, ".maps", { _ in .badCompressionHeader }),
    elfCase("compressed REL section", change: { $0.sections[Obj.relSocket].flags = 0x800 }, ".relsocket",
            { _ in .compressedTable }),
]

@Suite("ELF reader: malformed input")
struct ELFMalformedTests {
    @Test("each malformation gives its specific error", arguments: elfMalformedCases)
    fileprivate func malformed(_ testCase: ELFMalformedCase) {
        let (error, expected) = testCase.run()
        #expect(error == expected)
    }

    @Test("the valid base object parses")
    func validBase() throws {
        let file = try ELFFile(bytes: ELFTestObject.valid.build().bytes)
        #expect(file.sections.map(\.name) == ["", ".text", "socket", ".relsocket", ".bss", ".maps", ".symtab", ".strtab"])
        #expect(file.symbols.map(\.name) == ["", "prog.c", ".text", "prog", "counts", "seen"])
        #expect(file.symbols[1].type == .file && file.symbols[1].sectionIndex == ELFSymbol.absoluteSection)
        #expect(file.symbols[3].type == .function && file.symbols[3].binding == .global)
        #expect(file.symbols[5].visibility == 2 && file.symbols[5].sectionIndex == 4)
        let socket = try #require(file.section(named: "socket"))
        #expect(file.relocations(for: socket) == [
            ELFRelocation(offset: 0, type: ELFRelocation.bpf64_64, symbolIndex: 4),
            ELFRelocation(offset: 16, type: ELFRelocation.bpf64_32, symbolIndex: 2),
        ])
        #expect(file.relocations(for: file.sections[1]).isEmpty)
        #expect(file.data(of: socket).count == 32 && file.data(of: socket).first == 0x18)
        let bss = try #require(file.section(named: ".bss"))
        #expect(bss.isNoBits && bss.isWritable && bss.isAllocated && !bss.isExecutable && bss.size == 8)
        #expect(file.data(of: bss).isEmpty)
        #expect(file.data(of: file.sections[0]).isEmpty)
        #expect(socket.isExecutable && !socket.isWritable)
    }

    @Test("relocations may end exactly at the end of their section")
    func relocationAtEnd() throws {
        var object = ELFTestObject.valid
        object.relocations = [.init(offset: 16, type: 1, symbol: 4), .init(offset: 24, type: 10, symbol: 2),
                              .init(offset: 28, type: 4, symbol: 2), .init(offset: 24, type: 2, symbol: 2),
                              .init(offset: 32, type: 0, symbol: 0)]
        let file = try ELFFile(bytes: object.build().bytes)
        #expect(file.relocations(for: file.sections[2]).count == 5)
    }

    @Test("extended section numbering (e_shnum 0, SHN_XINDEX) reads like the plain header")
    func extendedNumbering() throws {
        let plain = try ELFFile(bytes: ELFTestObject.valid.build().bytes)
        var object = ELFTestObject.valid
        object.sectionCount = 0
        object.sections[0].size = 8
        object.nameTableIndex = 0xffff
        object.sections[0].link = 7
        let extended = try ELFFile(bytes: object.build().bytes)
        #expect(Array(extended.sections.dropFirst()) == Array(plain.sections.dropFirst()))
        #expect(extended.sections[0].size == 8 && extended.sections[0].link == 7)
        #expect(extended.symbols == plain.symbols)
    }

    @Test("duplicate section names are allowed; section(named:) finds the first")
    func duplicateNames() throws {
        var object = ELFTestObject.valid
        object.sections[Obj.maps].name = "socket"
        let file = try ELFFile(bytes: object.build().bytes)
        #expect(file.section(named: "socket")?.index == 2)
        #expect(file.sections.filter { $0.name == "socket" }.count == 2)
        #expect(file.section(named: "nothing") == nil)
    }

    @Test("special symbol section indices and NOBITS placement are accepted")
    func specialIndices() throws {
        var object = ELFTestObject.valid
        object.symbols[4].sectionIndex = 0xfff2
        object.symbols[3].sectionIndex = 0
        object.sections[Obj.bss].offset = 1 << 40
        let file = try ELFFile(bytes: object.build().bytes)
        #expect(file.symbols[4].sectionIndex == ELFSymbol.commonSection)
        #expect(file.symbols[3].sectionIndex == ELFSymbol.undefinedSection)
        #expect(file.data(of: file.sections[Obj.bss]).isEmpty)
    }

    @Test("a section from another file yields no data and no relocations")
    func foreignSection() throws {
        let file = try ELFFile(bytes: ELFTestObject.valid.build().bytes)
        var object = ELFTestObject.valid
        object.sections[Obj.socket].name = "xdp"
        let other = try ELFFile(bytes: object.build().bytes)
        #expect(file.data(of: other.sections[Obj.socket]).isEmpty)
        #expect(file.relocations(for: other.sections[Obj.socket]).isEmpty)
    }

    @Test("compressed targets bound relocations by their uncompressed size")
    func compressedTarget() throws {
        var object = ELFTestObject.valid
        // Elf64_Chdr: ch_type 1 (zlib), reserved, ch_size 64, ch_addralign 1; then 8 bytes standing for the stream.
        object.sections[Obj.maps].data = le(UInt32(1)) + le(UInt32(0)) + le(UInt64(64)) + le(UInt64(1))
            + [UInt8](repeating: 0, count: 8)
        object.sections[Obj.maps].flags = 0x800
        object.sections[Obj.relSocket].info = 5
        object.relocations = [.init(offset: 56, type: 2, symbol: 4)]
        let file = try ELFFile(bytes: object.build().bytes)
        #expect(file.relocations(for: file.sections[Obj.maps]) == [.init(offset: 56, type: 2, symbolIndex: 4)])
        #expect(file.sections[Obj.maps].isCompressed)
        object.relocations = [.init(offset: 57, type: 2, symbol: 4)]
        #expect(throws: ELFError(location: ".relsocket", reason: .relocationOutOfRange(
            relocation: 0, offset: 57, width: 8, targetSize: 64))) { try ELFFile(bytes: object.build().bytes) }
    }

    @Test("names overlapping in the string table are capped, repeated ones are cheap")
    func nameBlowUp() throws {
        let long = String(repeating: "n", count: 100_000)
        var object = ELFTestObject.valid
        object.symbols[4].name = long
        let base = object.build()
        let longOffset = UInt32(base.stringTableSize - long.utf8.count - 1)
        // Many symbols naming the same long string: memoised, so fine.
        object.symbols += (0..<2000).map { _ in .init(name: long, info: 0x11, sectionIndex: 5) }
        #expect(try ELFFile(bytes: object.build().bytes).symbols.count == 2006)
        // Many symbols naming different suffixes of it: rejected long before the work becomes quadratic.
        object.symbols.removeLast(2000)
        object.symbols += (1..<2000).map {
            .init(name: "", info: 0x11, sectionIndex: 5, nameOffset: longOffset + UInt32($0))
        }
        let bytes = object.build().bytes
        #expect(throws: ELFError(location: ".symtab symbol 11", reason: .excessiveNameBytes(
            limit: bytes.count * 4 + 65_536))) { try ELFFile(bytes: bytes) }
    }

    @Test("many REL sections for one target gather their relocations in linear time")
    func manyRelocationSections() throws {
        var object = ELFTestObject.valid
        let extra = 20_000
        object.sections += (0..<extra).map { _ in
            .init(name: ".relsocket", type: 9, data: le(UInt64(24)) + le(UInt64(2) << 32 | 10), link: 6, info: 2,
                  entrySize: 16)
        }
        let file = try ELFFile(bytes: object.build().bytes)
        let relocations = file.relocations(for: file.sections[Obj.socket])
        #expect(relocations.count == 2 + extra)
        #expect(relocations.last == ELFRelocation(offset: 24, type: 10, symbolIndex: 2))
    }

    @Test("every prefix of a valid object is rejected without a crash")
    func everyPrefix() {
        let bytes = ELFTestObject.valid.build().bytes
        var accepted: [Int] = []
        for length in 0..<bytes.count where (try? ELFFile(bytes: Array(bytes[..<length]))) != nil {
            accepted.append(length)
        }
        #expect(accepted.isEmpty, "prefixes accepted: \(accepted)")
    }

    @Test("every single-byte corruption parses or fails cleanly")
    func everyByteFlip() {
        let bytes = ELFTestObject.valid.build().bytes
        var outcomes = (accepted: 0, rejected: 0)
        for index in bytes.indices {
            for mask: UInt8 in [0x01, 0x10, 0x80, 0xff] {
                var corrupt = bytes
                corrupt[index] ^= mask
                if (try? ELFFile(bytes: corrupt)) != nil { outcomes.accepted += 1 } else { outcomes.rejected += 1 }
            }
        }
        #expect(outcomes.accepted + outcomes.rejected == bytes.count * 4)
        #expect(outcomes.rejected > 0)
    }

    @Test("error messages say what is wrong and where")
    func messages() {
        #expect(ELFError(location: "ELF header", reason: .wrongMachine(62)).description
                == "ELF header: wrong machine: x86-64 (62), expected BPF (247)")
        #expect(ELFError(location: ".relsocket", reason: .relaNotSupported).description
                == ".relsocket: RELA relocation section; BPF objects use REL relocations (SHT_REL) without explicit addends")
        #expect(ELFError(location: "ELF header", reason: .wrongType(3)).description.contains("shared object (ET_DYN, 3)"))
        #expect(ELFError(location: "ELF header", reason: .wrongByteOrder(2)).description.contains("bpfel"))
        #expect(ELFError(location: ".symtab", reason: .symbolSectionOutOfRange(symbol: 4, sectionIndex: 0xffff,
                                                                              sectionCount: 8))
                .description.contains("SHN_XINDEX"))
        for testCase in elfMalformedCases {
            let text = testCase.run().expected.description
            #expect(!text.isEmpty && text.contains(": "))
        }
    }
}

// MARK: - Regression inputs found by the fuzzer

/// Small inputs from the fuzzer's corpus (FuzzTesting/Corpus/ELF), as hex, with the error each must give. The
/// 10-minute campaigns found no crash; these pin down paths only mutated files reached (extended numbering with a
/// wild offset, a reserved `e_shstrndx`, a compressed name table, ...). Add crash inputs here once fixed.
private let elfFuzzRegressions: [(name: String, hex: String, expected: ELFError?)] = [
    (name: "e_shentsize 0xffff", hex: """
        7f454c460201010000000000000000000100f70001000000000000000000000000070000000000009802000000000000
        000000004000ffbfffffffffffffff00
        """,
     expected: ELFError(location: "ELF header", reason: .wrongSectionHeaderSize(65535))),
    (name: "extended numbering, e_shoff far past the end", hex: """
        7f454c460201010000000000000000000100f70001000000000000000100000001000000060000000023000000007a00
        0000000040000000000040000000611f30f141
        """,
     expected: ELFError(location: "ELF header", reason: .sectionHeadersOutOfRange(offset: 34339947158708992, count: 1, fileSize: 67))),
    (name: "reserved e_shstrndx", hex: """
        7f454c4602010100000e0000000000000100f70001000000280000000000000000000000000000002600000000000000
        000000004000000000004000010006ffffff950000000001000000000000013200000200000008000000000000001800
        00000000ff00
        """,
     expected: ELFError(location: "ELF header", reason: .sectionNameTableOutOfRange(index: 65286, sectionCount: 1))),
    (name: "section 0 not SHT_NULL", hex: """
        7f454c460201010000000000000000000100f7000100000000000000000000000000000000000000d900000000000000
        00000000400000000000400002000100b400000000000000950000000000000000000000000000000000000000000000
        0000000000000000240000000400f1ff000000000010000000000000000000000e000000120003000000000000000000
        100000000000010002002e7465787400736f4f7074696f6e696e696d616c002e6c6c766d5f61646472736961006d696e
        696d616c2e63002e737472746162002e73796d7461620000000000000000002d00000000000000000000000000000000
        00000000000000000000000000000000000000000000000000000000000000000000000000000000002e000000030000
        000000000000000000080000000000000099000000000000003e00000000000000000000000000000000000000000000
        000000003f00000000
        """,
     expected: ELFError(location: "section header 0", reason: .firstSectionNotNull(type: 2949120))),
    (name: "compressed section name table", hex: """
        7f454c460201010000000000000000000100f7000100000000000000000000000000000000000000d800000000000000
        00000000400000000000400004000100b400000000000000950000000000000000000000000000000000000000000000
        0000000000000000240000000400f1ff000000000000000000000000000000000e000000120003000000000000000000
        100000000000000002002e7465787400736f636b6574006d696e696d616c000e6c6c766d5f61646472736967006d696e
        696d616c2e63002e737472746162002e73796d7461620000000000000000000000000000000000000000000000000000
        000000000000000000000000000000000000000000000000000000000000000000000000000000002e00000003000000
        0008000000000000000000000000000099000000000000003e000000000000000000000000000000db00000000000000
        000000000000000000000100000000000000030000000000000000008800000000000000020000000800000000000000
        180000000000000016000000034cff6f0000008000000000000000000000000098000000000000000100000000000000
        0300000000000000000088c50000000000010000000200000008000000000000001800000000000000
        """,
     expected: ELFError(location: "section header 1", reason: .compressedTable)),
]

@Test("fuzzer regression inputs fail cleanly", arguments: elfFuzzRegressions.indices)
private func elfFuzzRegression(_ index: Int) {
    let input = elfFuzzRegressions[index]
    let bytes = elfBytes(fromHex: input.hex)
    var result: ELFError?
    do { _ = try ELFFile(bytes: bytes) } catch { result = error }
    #expect(result == input.expected, "\(input.name)")
}

private func elfBytes(fromHex hex: String) -> [UInt8] {
    let digits = Array(hex.filter(\.isHexDigit).utf8)
    return stride(from: 0, to: digits.count - 1, by: 2).map {
        UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)!
    }
}

// MARK: - Real objects compiled by clang

/// Where the tools for the real-object tests are, if installed.
private enum ELFToolchain {
    static let clang = "/opt/swift/usr/bin/clang"
    static let readelf = ["/usr/bin/llvm-readelf", "/opt/swift/usr/bin/llvm-readelf", "/usr/local/bin/llvm-readelf"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let hasClang = FileManager.default.isExecutableFile(atPath: clang)
    static let hasReadelf = hasClang && readelf != nil
    static let clangMissing: Comment = "clang not found at /opt/swift/usr/bin/clang; real-object tests skipped"
    static let readelfMissing: Comment = "clang or llvm-readelf not found; comparison with llvm-readelf skipped"
}

/// C programs covering what libbpf objects hold: maps, globals, `.bss`/`.rodata`, subprograms, callbacks, externs,
/// and BTF of every kind with CO-RE relocations.
private let elfPrograms: [String: String] = [
    "maps": """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>

        struct {
            __uint(type, BPF_MAP_TYPE_ARRAY);
            __uint(max_entries, 4);
            __type(key, __u32);
            __type(value, __u64);
        } counts SEC(".maps");

        __u64 packets_seen = 0;
        static __u64 static_counter;
        int initialized = 7;
        const char fmt[] = "hello %d";

        static __attribute__((noinline)) int clamp(int x) { return x > 100 ? 100 : x; }

        SEC("socket")
        int count_packets(struct __sk_buff *skb) {
            __u32 key = 0;
            __u64 *v = bpf_map_lookup_elem(&counts, &key);
            if (v) __sync_fetch_and_add(v, 1);
            packets_seen++;
            static_counter += 2;
            bpf_printk("len %d", skb->len);
            return clamp(skb->len + initialized);
        }

        SEC("kprobe/vfs_read")
        int probe(void *ctx) { return 0; }

        char LICENSE[] SEC("license") = "GPL";
        """,
    "subprog": """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>

        __attribute__((noinline)) int clamp_len(int len) { return len > 1500 ? 1500 : len; }
        static __attribute__((noinline)) int checksum(int x) { return (x * 31) ^ 7; }
        static int loop_cb(__u32 index, void *ctx) { *(int *)ctx += index; return 0; }

        SEC("socket")
        int calls(struct __sk_buff *skb) {
            int acc = 0;
            bpf_loop(10, loop_cb, &acc, 0);
            return clamp_len(skb->len) + checksum(acc);
        }
        char LICENSE[] SEC("license") = "GPL";
        """,
    "externs": """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>

        extern int LINUX_KERNEL_VERSION __kconfig;
        extern int some_ksym __ksym;
        __attribute__((weak)) int weak_value = 3;
        __hidden int hidden_value = 4;
        static volatile int counter;

        SEC("fexit/do_thing")
        int on_exit(unsigned long long *ctx) {
            counter++;
            return LINUX_KERNEL_VERSION + weak_value + hidden_value + (int)ctx[1] + (int)(long)&some_ksym;
        }
        SEC("?lsm/file_open")
        int on_open(unsigned long long *ctx) { return 0; }
        char LICENSE[] SEC("license") = "Dual MIT/GPL";
        """,
    "minimal": """
        __attribute__((section("socket"), used)) int minimal(void *ctx) { return 0; }
        """,
    "btfkinds": """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>
        #include <bpf/bpf_core_read.h>

        typedef unsigned int u32_t;
        enum color { RED, GREEN = 5, BLUE = -1 };
        enum big { HUGE = 0x1ffffffffULL };
        struct inner { int a; char b[3]; };
        union u { int i; float f; struct inner in; };
        struct flags { unsigned int x : 3, y : 5; unsigned long long z : 40; };
        struct task { int pid; const volatile struct inner *ptr; union u un; struct flags fl; enum color c; enum big g;
                      u32_t arr[4][2]; double d; } __attribute__((preserve_access_index));
        int __attribute__((btf_decl_tag("tagged"))) tagged_var = 1;
        int __attribute__((btf_type_tag("user"))) *user_ptr;
        struct task global_task;
        struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, struct inner); __type(value, union u); } hmap SEC(".maps");

        static __attribute__((noinline)) int helper(struct task *t, enum color c, ...) { return t->pid + c; }

        SEC("tp_btf/sched_switch")
        int kinds(struct task *t) {
            int pid = BPF_CORE_READ(t, pid);
            int b = BPF_CORE_READ(t, un.in.a);
            unsigned int y = BPF_CORE_READ_BITFIELD_PROBED(t, fl.y);
            int exists = bpf_core_field_exists(t->d);
            int sz = bpf_core_type_size(struct task);
            int ev = bpf_core_enum_value(enum color, GREEN);
            return pid + b + y + exists + sz + ev + helper(&global_task, RED) + (user_ptr != 0);
        }
        char LICENSE[] SEC("license") = "GPL";
        """,
]

/// A program and the clang flags to build it with.
private struct ELFBuild: Sendable, CustomTestStringConvertible {
    let program: String
    let flags: [String]
    var testDescription: String { ([program] + flags).joined(separator: " ") }
}

private let elfBuilds: [ELFBuild] = [
    ELFBuild(program: "maps", flags: ["-g"]),
    ELFBuild(program: "maps", flags: []),
    ELFBuild(program: "maps", flags: ["-g", "-gz"]),
    ELFBuild(program: "subprog", flags: ["-g"]),
    ELFBuild(program: "subprog", flags: ["-g", "-mcpu=v4"]),
    ELFBuild(program: "externs", flags: ["-g"]),
    ELFBuild(program: "externs", flags: []),
    ELFBuild(program: "minimal", flags: []),
    ELFBuild(program: "btfkinds", flags: ["-g"]),
]

private struct ELFToolFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs `tool` and returns its standard output; throws with its standard error if it fails.
private func elfRun(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let output = Pipe()
    let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("elf-tests-\(UUID().uuidString).err")
    _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorFile) }
    process.standardOutput = output
    process.standardError = try FileHandle(forWritingTo: errorFile)
    try process.run()
    // Read the output to the end before waiting, so that a full pipe cannot block the tool.
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let errors = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        throw ELFToolFailure(description: "\(tool) \(arguments.joined(separator: " ")) failed: \(errors)")
    }
    return String(decoding: data, as: UTF8.self)
}

/// Compiles `source` with clang into `directory`; returns the object's path.
private func elfCompile(_ source: String, flags: [String], target: String = "bpf", in directory: TemporaryDirectory) throws
    -> String
{
    let input = directory.file("prog.c").path
    let output = directory.file("prog.o").path
    try source.write(toFile: input, atomically: true, encoding: .utf8)
    _ = try elfRun(ELFToolchain.clang, ["-O2", "-target", target, "-I/usr/include/x86_64-linux-gnu", "-c", input,
                                        "-o", output] + flags)
    return output
}

/// The bytes of `source` compiled with clang (in a temporary directory, removed afterwards).
private func elfCompile(_ source: String, flags: [String], target: String = "bpf") throws -> [UInt8] {
    try TemporaryDirectory.with("elf-tests") { directory in
        let path = try elfCompile(source, flags: flags, target: target, in: directory)
        return try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

private func elfLoad(_ build: ELFBuild) throws -> ELFFile {
    try ELFFile(bytes: try elfCompile(elfPrograms[build.program]!, flags: build.flags))
}

/// What `llvm-readelf --elf-output-style=LLVM -S -s -r` says about a file.
private struct ELFReadelfFacts {
    struct Section: Equatable {
        var index = 0, name = "", type: UInt32 = 0, flags: UInt64 = 0, offset = 0, size = 0, link = 0, info = 0
        var alignment: UInt64 = 0, entrySize = 0
    }
    struct Symbol: Equatable {
        var name = "", value: UInt64 = 0, size: UInt64 = 0, binding: UInt8 = 0, type: UInt8 = 0
        var visibility: UInt8 = 0, section = 0
    }
    struct Relocation: Equatable {
        var offset: UInt64, type: UInt32, symbol: String
    }
    var sections: [Section] = []
    var symbols: [Symbol] = []
    /// Relocations by the index of the REL section holding them.
    var relocations: [Int: [Relocation]] = [:]

    static let relocationTypes: [String: UInt32] = [
        "R_BPF_NONE": 0, "R_BPF_64_64": 1, "R_BPF_64_ABS64": 2, "R_BPF_64_ABS32": 3, "R_BPF_64_NODYLD32": 4,
        "R_BPF_64_32": 10,
    ]

    init(path: String) throws {
        let text = try elfRun(ELFToolchain.readelf!, ["--elf-output-style=LLVM", "-S", "-s", "-r", path])
        var section: Section?
        var symbol: Symbol?
        var relocationSection: Int?
        var inOther = false
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line == "Section {" { section = Section(); continue }
            if line == "Symbol {" { symbol = Symbol(); continue }
            if line.hasPrefix("Section ("), line.hasSuffix("{") {
                relocationSection = Int(line.dropFirst("Section (".count).prefix { $0 != ")" })
                continue
            }
            if line == "}" {
                if let done = section { sections.append(done); section = nil }
                if let done = symbol { symbols.append(done); symbol = nil }
                relocationSection = nil
                continue
            }
            if let index = relocationSection {
                let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
                guard parts.count >= 2 else { continue }
                relocations[index, default: []].append(Relocation(
                    offset: UInt64(parts[0].dropFirst(2), radix: 16)!,
                    type: Self.relocationTypes[parts[1]] ?? .max, symbol: parts.count > 2 ? parts[2] : ""))
                continue
            }
            if section != nil {
                parse(line, into: &section!)
            } else if symbol != nil {
                if line.hasPrefix("Other [") { inOther = true; symbol!.visibility = UInt8(lastHex(line) & 3); continue }
                if inOther { if line == "]" { inOther = false }; continue }
                parse(line, into: &symbol!)
            }
        }
    }

    private func parse(_ line: String, into section: inout Section) {
        let value = line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        switch line.prefix(while: { $0 != ":" && $0 != " " }) {
        case "Index": section.index = Int(value)!
        case "Name": section.name = nameField(line)
        case "Type": section.type = UInt32(lastHex(line))
        case "Flags": section.flags = lastHex(line)
        case "Offset": section.offset = Int(value.dropFirst(2), radix: 16)!
        case "Size": section.size = Int(value)!
        case "Link": section.link = Int(value)!
        case "Info": section.info = Int(value)!
        case "AddressAlignment": section.alignment = UInt64(value)!
        case "EntrySize": section.entrySize = Int(value)!
        default: break
        }
    }

    private func parse(_ line: String, into symbol: inout Symbol) {
        let value = line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        switch line.prefix(while: { $0 != ":" && $0 != " " }) {
        case "Name": symbol.name = nameField(line)
        case "Value": symbol.value = UInt64(value.dropFirst(2), radix: 16)!
        case "Size": symbol.size = UInt64(value)!
        case "Binding": symbol.binding = UInt8(lastHex(line))
        case "Type": symbol.type = UInt8(lastHex(line))
        case "Other": symbol.visibility = UInt8(value)! & 3
        case "Section": symbol.section = Int(lastHex(line))
        default: break
        }
    }

    /// `Name: .text (15)` → `.text`; `Name:  (0)` → empty.
    private func nameField(_ line: String) -> String {
        let afterColon = line.drop { $0 != ":" }.dropFirst().dropFirst()
        guard let open = afterColon.range(of: " (", options: .backwards) else { return String(afterColon) }
        return String(afterColon[..<open.lowerBound])
    }

    /// The last `(0x…)` in a line, e.g. `Type: SHT_PROGBITS (0x1)` → 1.
    private func lastHex(_ line: String) -> UInt64 {
        guard let start = line.range(of: "(0x", options: .backwards) else { return 0 }
        return UInt64(line[start.upperBound...].prefix { $0.isHexDigit }, radix: 16) ?? 0
    }
}

@Suite("ELF reader: objects compiled by clang", .enabled(if: ELFToolchain.hasClang, ELFToolchain.clangMissing))
struct ELFRealObjectTests {
    @Test("sections, symbols and relocations match llvm-readelf", .enabled(if: ELFToolchain.hasReadelf,
                                                                        ELFToolchain.readelfMissing),
          arguments: elfBuilds)
    fileprivate func matchesReadelf(_ build: ELFBuild) throws {
        let (file, facts) = try TemporaryDirectory.with("elf-tests") { directory in
            let path = try elfCompile(elfPrograms[build.program]!, flags: build.flags, in: directory)
            return (try ELFFile(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))),
                    try ELFReadelfFacts(path: path))
        }
        #expect(!facts.sections.isEmpty && !facts.symbols.isEmpty, "llvm-readelf output not understood")
        #expect(file.sections.count == facts.sections.count)
        for (ours, theirs) in zip(file.sections, facts.sections) {
            let mine = ELFReadelfFacts.Section(
                index: ours.index, name: ours.name, type: ours.type, flags: ours.flags, offset: ours.offset,
                size: ours.size, link: ours.link, info: ours.info, alignment: ours.alignment,
                entrySize: ours.entrySize)
            #expect(mine == theirs)
        }
        #expect(file.symbols.count == facts.symbols.count)
        for (ours, theirs) in zip(file.symbols, facts.symbols) {
            let mine = ELFReadelfFacts.Symbol(
                name: ours.name, value: ours.value, size: ours.size, binding: elfRaw(ours.binding),
                type: elfRaw(ours.type), visibility: ours.visibility, section: ours.sectionIndex)
            #expect(mine == theirs)
        }
        let relSections = file.sections.filter { $0.type == ELFSection.typeRelocations }
        #expect(Set(facts.relocations.keys) == Set(relSections.filter { $0.size > 0 }.map(\.index)))
        var relocationCount = 0
        for target in file.sections {
            let ours = file.relocations(for: target).map {
                ELFReadelfFacts.Relocation(offset: $0.offset, type: $0.type, symbol: file.symbols[$0.symbolIndex].name)
            }
            let theirs = relSections.filter { $0.info == target.index }.flatMap { facts.relocations[$0.index] ?? [] }
            #expect(ours == theirs, "relocations for \(target.name)")
            relocationCount += ours.count
        }
        #expect(relocationCount == relSections.reduce(0) { $0 + $1.size / 16 })
    }

    @Test("maps, globals and subprogram calls in a libbpf-style object")
    func mapsObject() throws {
        let file = try elfLoad(ELFBuild(program: "maps", flags: ["-g"]))
        let socket = try #require(file.section(named: "socket"))
        #expect(socket.isExecutable && socket.isAllocated && !socket.isWritable)
        #expect(try #require(file.section(named: "kprobe/vfs_read")).isExecutable)
        let relSocket = try #require(file.section(named: ".relsocket"))
        #expect(relSocket.type == ELFSection.typeRelocations && relSocket.info == socket.index
                && relSocket.entrySize == 16 && file.sections[relSocket.link].name == ".symtab")
        let relocations = file.relocations(for: socket).map { (file.symbols[$0.symbolIndex].name, $0.type) }
        #expect(relocations.map(\.0) == ["counts", "packets_seen", ".bss", ".rodata", "initialized", ".text"])
        #expect(relocations.map(\.1) == [1, 1, 1, 1, 1, 10])
        #expect(file.relocations(for: socket).allSatisfy { $0.offset % 8 == 0 })

        let bss = try #require(file.section(named: ".bss"))
        #expect(bss.isNoBits && bss.isWritable && file.data(of: bss).isEmpty && bss.size == 16)
        #expect(Array(file.data(of: try #require(file.section(named: "license")))) == Array("GPL\0".utf8))
        #expect(Array(file.data(of: try #require(file.section(named: ".data")))) == [7, 0, 0, 0])
        #expect(file.section(named: ".BTF") != nil && file.section(named: ".BTF.ext") != nil)
        #expect(!file.relocations(for: try #require(file.section(named: ".BTF.ext"))).isEmpty)

        let symbols = Dictionary(file.symbols.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let program = try #require(symbols["count_packets"])
        #expect(program.type == .function && program.binding == .global && program.sectionIndex == socket.index
                && program.size == UInt64(socket.size))
        let staticCounter = try #require(symbols["static_counter"])
        #expect(staticCounter.binding == .local && staticCounter.type == .object
                && staticCounter.sectionIndex == bss.index && staticCounter.value == 8 && staticCounter.size == 8)
        #expect(symbols["clamp"]?.binding == .local && symbols["clamp"]?.type == .function)
        #expect(symbols["counts"]?.sectionIndex == file.section(named: ".maps")?.index)
        #expect(symbols["prog.c"]?.type == .file && symbols["prog.c"]?.sectionIndex == ELFSymbol.absoluteSection)
        #expect(file.symbols[0] == ELFSymbol(index: 0, name: "", value: 0, size: 0, type: .noType, binding: .local,
                                             visibility: 0, sectionIndex: 0))
        #expect(file.symbols.enumerated().allSatisfy { $0.offset == $0.element.index })
    }

    @Test("externs are undefined, weak and hidden symbols keep their attributes")
    func externsObject() throws {
        let file = try elfLoad(ELFBuild(program: "externs", flags: ["-g"]))
        let symbols = Dictionary(file.symbols.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(symbols["LINUX_KERNEL_VERSION"]?.sectionIndex == ELFSymbol.undefinedSection)
        #expect(symbols["LINUX_KERNEL_VERSION"]?.binding == .global)
        #expect(symbols["some_ksym"]?.sectionIndex == ELFSymbol.undefinedSection)
        #expect(symbols["weak_value"]?.binding == .weak)
        #expect(symbols["hidden_value"]?.visibility == 2)
        #expect(file.section(named: "?lsm/file_open")?.isExecutable == true)
        #expect(file.section(named: "fexit/do_thing")?.isExecutable == true)
        let exit = try #require(file.section(named: "fexit/do_thing"))
        let targets = file.relocations(for: exit).map { file.symbols[$0.symbolIndex].name }
        #expect(targets.contains("LINUX_KERNEL_VERSION") && targets.contains("some_ksym"))
    }

    @Test("static and global subprograms and callbacks relocate against .text")
    func subprogramObject() throws {
        let file = try elfLoad(ELFBuild(program: "subprog", flags: ["-g"]))
        let text = try #require(file.section(named: ".text"))
        #expect(text.isExecutable && text.size > 0)
        let calls = file.relocations(for: try #require(file.section(named: "socket")))
        let described = calls.map { "\(file.symbols[$0.symbolIndex].name)/\($0.type)" }
        #expect(described.contains(".text/1"))         // &loop_cb: ld_imm64 against the section symbol
        #expect(described.contains("clamp_len/10"))     // global callee: call against its FUNC symbol
        #expect(described.contains(".text/10"))         // static callee: call against the section symbol
    }

    @Test("compressed debug sections (-gz) keep relocations within the uncompressed size")
    func compressedDebugInfo() throws {
        let file = try elfLoad(ELFBuild(program: "maps", flags: ["-g", "-gz"]))
        let addresses = try #require(file.section(named: ".debug_addr"))
        #expect(addresses.isCompressed)
        let relocations = file.relocations(for: addresses)
        #expect(!relocations.isEmpty)
        #expect(relocations.contains { $0.offset + 8 > UInt64(addresses.size) })
    }

    @Test("every prefix of a real object is rejected without a crash", arguments: ["maps", "minimal"])
    func everyPrefix(program: String) throws {
        let bytes = try elfCompile(elfPrograms[program]!, flags: ["-g"])
        _ = try ELFFile(bytes: bytes)
        var accepted: [Int] = []
        for length in 0..<bytes.count where (try? ELFFile(bytes: Array(bytes[..<length]))) != nil {
            accepted.append(length)
        }
        #expect(accepted.isEmpty, "prefixes accepted: \(accepted.prefix(10))")
    }

    @Test("x86-64 and big-endian BPF objects are rejected with a clear message")
    func foreignObjects() throws {
        let x86Bytes = try elfCompile(elfPrograms["minimal"]!, flags: [], target: "x86_64-linux-gnu")
        #expect(throws: ELFError(location: "ELF header", reason: .wrongMachine(62))) { try ELFFile(bytes: x86Bytes) }
        do {
            _ = try ELFFile(bytes: x86Bytes)
        } catch {
            #expect(error.description == "ELF header: wrong machine: x86-64 (62), expected BPF (247)")
        }
        let bigEndianBytes = try elfCompile(elfPrograms["minimal"]!, flags: [], target: "bpfeb")
        #expect(throws: ELFError(location: "ELF header", reason: .wrongByteOrder(2))) {
            try ELFFile(bytes: bigEndianBytes)
        }
    }
}

private func elfRaw(_ binding: SymbolBinding) -> UInt8 {
    switch binding {
    case .local: 0
    case .global: 1
    case .weak: 2
    case .other(let value): value
    }
}

private func elfRaw(_ type: SymbolType) -> UInt8 {
    switch type {
    case .noType: 0
    case .object: 1
    case .function: 2
    case .section: 3
    case .file: 4
    case .other(let value): value
    }
}
