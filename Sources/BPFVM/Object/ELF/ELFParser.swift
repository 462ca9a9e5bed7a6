/// The validation pass behind ``ELFFile/init(bytes:)`` and ``ELFSectionTable/init(bytes:)``: reads the ELF header
/// and the section headers, and for a BPF object the symbol table and the REL sections, checking every offset, size,
/// index and count before it is used.
///
/// A BPF object must be ELF64, little-endian, `ET_REL` and `EM_BPF`. Reading only the section table accepts any
/// ELF file (32- or 64-bit, either byte order, any machine and file type), as `bpftool btf dump file` does for a
/// kernel image or module.
///
/// Work and memory are linear in the file size: tables are bounded by the bytes that hold them, and decoded names
/// are memoised and capped by ``ELFParser/nameByteLimit``.
struct ELFParser {
    /// What a successful parse yields.
    struct Parsed {
        var sections: [ELFSection]
        var symbols: [ELFSymbol]
        var relocationsByTarget: [[ELFRelocation]]
    }

    /// One `Elf64_Shdr` or `Elf32_Shdr`, fields as stored (widened to 64 bits).
    struct RawSectionHeader {
        var name: UInt32
        var type: UInt32
        var flags: UInt64
        var offset: UInt64
        var size: UInt64
        var link: UInt32
        var info: UInt32
        var alignment: UInt64
        var entrySize: UInt64
    }

    static let headerSize = 64
    static let sectionHeaderSize = 64
    /// `Elf32_Ehdr` and `Elf32_Shdr` sizes.
    static let headerSize32 = 52
    static let sectionHeaderSize32 = 40
    static let symbolSize = 24
    static let relocationSize = 16
    static let compressionHeaderSize = 24
    static let machineBPF: UInt16 = 247
    static let typeRelocatable: UInt16 = 1
    /// `SHN_LORESERVE`: section indices from here up are special.
    static let firstReservedIndex = 0xff00
    /// `SHN_XINDEX`: the real value lives elsewhere (section 0's `sh_link` for `e_shstrndx`).
    static let extendedIndex = 0xffff

    let bytes: [UInt8]
    /// The most name bytes a file may make the reader decode: far above what any compiler emits, low enough that
    /// a string table overlapped on purpose cannot blow up time or memory.
    let nameByteLimit: Int
    /// Whether the file must be a BPF object (ELF64 little-endian relocatable for EM_BPF), rather than any ELF file.
    let requiresBPFObject: Bool
    /// `ELFCLASS64` rather than `ELFCLASS32`; known once the header is read.
    private(set) var is64Bit = true
    /// `ELFDATA2MSB` rather than `ELFDATA2LSB`; known once the header is read.
    private(set) var isBigEndian = false

    init(bytes: [UInt8], requiresBPFObject: Bool = true) {
        self.bytes = bytes
        self.nameByteLimit = bytes.count * 4 + 65_536
        self.requiresBPFObject = requiresBPFObject
    }

    /// Reads the header and the section headers, with their names.
    mutating func parseSections() throws(ELFError) -> [ELFSection] {
        let table = try readHeader()
        let raw = try readSectionHeaders(table)
        var names = NameDecoder(limit: nameByteLimit)
        return try resolveSections(raw, nameTableIndex: table.nameTableIndex, names: &names)
    }

    mutating func parse() throws(ELFError) -> Parsed {
        let table = try readHeader()
        let raw = try readSectionHeaders(table)
        var names = NameDecoder(limit: nameByteLimit)
        let sections = try resolveSections(raw, nameTableIndex: table.nameTableIndex, names: &names)
        let symbolTable = try checkTables(sections)
        var symbols: [ELFSymbol] = []
        if let index = symbolTable {
            symbols = try readSymbols(of: sections[index], in: sections, names: &names)
        }
        let relocations = try readRelocations(sections, symbolCount: symbols.count)
        return Parsed(sections: sections, symbols: symbols, relocationsByTarget: relocations)
    }

    // MARK: - ELF header

    /// Where the section header table is and how to find the section names.
    struct SectionTable {
        var offset: UInt64
        var count: Int
        var nameTableIndex: Int
    }

    private mutating func readHeader() throws(ELFError) -> SectionTable {
        let location = "ELF header"
        let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
        let checked = min(bytes.count, magic.count)
        guard bytes[0..<checked].elementsEqual(magic[0..<checked]) else {
            throw ELFError(location: location, reason: .badMagic)
        }
        // A BPF object is ELF64; other files are as long as their class says (an unknown class is checked below).
        is64Bit = requiresBPFObject || bytes.count <= 4 || bytes[4] != 1
        let expectedHeaderSize = is64Bit ? Self.headerSize : Self.headerSize32
        guard bytes.count >= expectedHeaderSize else {
            throw ELFError(location: location, reason: .truncatedHeader(fileSize: bytes.count))
        }
        guard bytes[4] == 2 || (!requiresBPFObject && bytes[4] == 1) else {
            throw ELFError(location: location, reason: .wrongClass(bytes[4]))
        }
        guard bytes[5] == 1 || (!requiresBPFObject && bytes[5] == 2) else {
            throw ELFError(location: location, reason: .wrongByteOrder(bytes[5]))
        }
        isBigEndian = bytes[5] == 2
        guard bytes[6] == 1 else { throw ELFError(location: location, reason: .wrongVersion(UInt32(bytes[6]))) }
        if requiresBPFObject {
            let machine = u16(at: 18)
            guard machine == Self.machineBPF else { throw ELFError(location: location, reason: .wrongMachine(machine)) }
            let type = u16(at: 16)
            guard type == Self.typeRelocatable else { throw ELFError(location: location, reason: .wrongType(type)) }
        }
        let version = u32(at: 20)
        guard version == 1 else { throw ELFError(location: location, reason: .wrongVersion(version)) }
        let headerSize = u16(at: is64Bit ? 52 : 40)
        guard headerSize == expectedHeaderSize else {
            throw ELFError(location: location, reason: .wrongHeaderSize(headerSize))
        }

        let tableOffset = is64Bit ? u64(at: 40) : UInt64(u32(at: 32))
        let entrySize = u16(at: is64Bit ? 58 : 46)
        let declaredCount = u16(at: is64Bit ? 60 : 48)
        let declaredNameIndex = u16(at: is64Bit ? 62 : 50)
        let expectedEntrySize = is64Bit ? Self.sectionHeaderSize : Self.sectionHeaderSize32
        guard tableOffset != 0 else { throw ELFError(location: location, reason: .noSectionHeaders) }
        guard entrySize == expectedEntrySize else {
            throw ELFError(location: location, reason: .wrongSectionHeaderSize(entrySize))
        }
        // Section 0 holds the real count (sh_size) and name table index (sh_link) when they do not fit the header.
        guard let first = fileRange(offset: tableOffset, size: UInt64(expectedEntrySize)) else {
            throw ELFError(location: location, reason: .sectionHeadersOutOfRange(
                offset: tableOffset, count: UInt64(max(declaredCount, 1)), fileSize: bytes.count))
        }
        let count = declaredCount == 0
            ? (is64Bit ? u64(at: first.lowerBound + 32) : UInt64(u32(at: first.lowerBound + 20)))
            : UInt64(declaredCount)
        guard count != 0 else { throw ELFError(location: location, reason: .noSectionHeaders) }
        let (tableSize, overflow) = count.multipliedReportingOverflow(by: UInt64(expectedEntrySize))
        guard !overflow, fileRange(offset: tableOffset, size: tableSize) != nil else {
            throw ELFError(location: location, reason: .sectionHeadersOutOfRange(
                offset: tableOffset, count: count, fileSize: bytes.count))
        }
        let sectionCount = Int(count)  // count × entry size fits in the file, so count fits in Int.

        var nameIndex = UInt64(declaredNameIndex)
        if declaredNameIndex == Self.extendedIndex {
            nameIndex = UInt64(u32(at: first.lowerBound + (is64Bit ? 40 : 24)))
        } else if declaredNameIndex >= Self.firstReservedIndex {
            throw ELFError(location: location, reason: .sectionNameTableOutOfRange(
                index: nameIndex, sectionCount: sectionCount))
        }
        guard nameIndex != 0 else { throw ELFError(location: location, reason: .missingSectionNameTable) }
        guard nameIndex < count else {
            throw ELFError(location: location, reason: .sectionNameTableOutOfRange(
                index: nameIndex, sectionCount: sectionCount))
        }
        return SectionTable(offset: tableOffset, count: sectionCount, nameTableIndex: Int(nameIndex))
    }

    // MARK: - Section headers

    private func readSectionHeaders(_ table: SectionTable) throws(ELFError) -> [RawSectionHeader] {
        let base = Int(table.offset)  // The whole table lies inside the file (checked by readHeader).
        var headers: [RawSectionHeader] = []
        headers.reserveCapacity(table.count)
        for index in 0..<table.count {
            if is64Bit {
                let at = base + index * Self.sectionHeaderSize
                headers.append(RawSectionHeader(
                    name: u32(at: at), type: u32(at: at + 4), flags: u64(at: at + 8), offset: u64(at: at + 24),
                    size: u64(at: at + 32), link: u32(at: at + 40), info: u32(at: at + 44),
                    alignment: u64(at: at + 48), entrySize: u64(at: at + 56)))
            } else {
                let at = base + index * Self.sectionHeaderSize32
                headers.append(RawSectionHeader(
                    name: u32(at: at), type: u32(at: at + 4), flags: UInt64(u32(at: at + 8)),
                    offset: UInt64(u32(at: at + 16)), size: UInt64(u32(at: at + 20)), link: u32(at: at + 24),
                    info: u32(at: at + 28), alignment: UInt64(u32(at: at + 32)), entrySize: UInt64(u32(at: at + 36))))
            }
        }
        guard headers[0].type == ELFSection.typeNull else {
            throw ELFError(location: "section header 0", reason: .firstSectionNotNull(type: headers[0].type))
        }
        return headers
    }

    /// Checks each header's own fields and resolves its name.
    private func resolveSections(
        _ raw: [RawSectionHeader], nameTableIndex: Int, names: inout NameDecoder
    ) throws(ELFError) -> [ELFSection] {
        let nameTable = raw[nameTableIndex]
        guard nameTable.type == ELFSection.typeStringTable else {
            throw ELFError(location: "section header \(nameTableIndex)", reason: .notAStringTable(
                index: nameTableIndex, type: nameTable.type))
        }
        guard let nameBytes = fileRange(offset: nameTable.offset, size: nameTable.size) else {
            throw ELFError(location: "section header \(nameTableIndex)", reason: .dataOutOfRange(
                offset: nameTable.offset, size: nameTable.size, fileSize: bytes.count))
        }
        guard nameTable.flags & ELFSection.flagCompressed == 0 else {
            throw ELFError(location: "section header \(nameTableIndex)", reason: .compressedTable)
        }

        var sections: [ELFSection] = []
        sections.reserveCapacity(raw.count)
        for (index, header) in raw.enumerated() {
            let name = try names.name(
                at: header.name, table: nameBytes, tableIndex: nameTableIndex, in: bytes,
                location: "section header \(index)")
            sections.append(try makeSection(header, index: index, name: name))
        }
        return sections
    }

    private func makeSection(_ header: RawSectionHeader, index: Int, name: String) throws(ELFError) -> ELFSection {
        let location = name.isEmpty ? "section header \(index)" : name
        let hasData = header.type != ELFSection.typeNoBits && header.type != ELFSection.typeNull
        if hasData {
            guard fileRange(offset: header.offset, size: header.size) != nil else {
                throw ELFError(location: location, reason: .dataOutOfRange(
                    offset: header.offset, size: header.size, fileSize: bytes.count))
            }
        }
        guard let offset = Int(exactly: header.offset) else {
            throw ELFError(location: location, reason: .valueTooLarge(field: "sh_offset", value: header.offset))
        }
        guard let size = Int(exactly: header.size) else {
            throw ELFError(location: location, reason: .valueTooLarge(field: "sh_size", value: header.size))
        }
        guard let entrySize = Int(exactly: header.entrySize) else {
            throw ELFError(location: location, reason: .valueTooLarge(field: "sh_entsize", value: header.entrySize))
        }
        guard header.alignment & (header.alignment &- 1) == 0 else {
            throw ELFError(location: location, reason: .badAlignment(header.alignment))
        }
        return ELFSection(
            index: index, name: name, type: header.type, flags: header.flags, offset: offset, size: size,
            link: Int(header.link), info: Int(header.info), alignment: header.alignment, entrySize: entrySize)
    }

    /// Checks the structure of every SYMTAB and REL section, rejects RELA, and returns the symbol table's index.
    private func checkTables(_ sections: [ELFSection]) throws(ELFError) -> Int? {
        var symbolTable: Int?
        for section in sections {
            let location = locationName(section)
            switch section.type {
            case ELFSection.typeRelocationsWithAddends:
                throw ELFError(location: location, reason: .relaNotSupported)
            case ELFSection.typeSymbolTable:
                if let first = symbolTable {
                    throw ELFError(location: location, reason: .duplicateSymbolTable(firstIndex: first))
                }
                try checkTableShape(section, entrySize: Self.symbolSize)
                guard section.size > 0 else { throw ELFError(location: location, reason: .emptySymbolTable) }
                guard sections.indices.contains(section.link), section.link != 0,
                      sections[section.link].type == ELFSection.typeStringTable else {
                    throw ELFError(location: location, reason: .badLink(
                        link: section.link, expected: "a string table (SHT_STRTAB)"))
                }
                guard !sections[section.link].isCompressed else {
                    throw ELFError(location: locationName(sections[section.link]), reason: .compressedTable)
                }
                let count = section.size / Self.symbolSize
                guard section.info <= count else {
                    throw ELFError(location: location, reason: .badInfo(
                        info: section.info, expected: "the first non-local symbol (at most the \(count) symbols)"))
                }
                symbolTable = section.index
            case ELFSection.typeRelocations:
                try checkTableShape(section, entrySize: Self.relocationSize)
                guard sections.indices.contains(section.link), section.link != 0,
                      sections[section.link].type == ELFSection.typeSymbolTable else {
                    throw ELFError(location: location, reason: .badLink(
                        link: section.link, expected: "the symbol table (SHT_SYMTAB)"))
                }
                guard sections.indices.contains(section.info), section.info != 0,
                      sections[section.info].type != ELFSection.typeNull,
                      sections[section.info].type != ELFSection.typeNoBits else {
                    throw ELFError(location: location, reason: .badInfo(
                        info: section.info, expected: "a section with file data to relocate"))
                }
            default:
                break
            }
        }
        return symbolTable
    }

    private func checkTableShape(_ section: ELFSection, entrySize: Int) throws(ELFError) {
        let location = locationName(section)
        guard section.entrySize == entrySize else {
            throw ELFError(location: location, reason: .wrongEntrySize(UInt64(section.entrySize), expected: entrySize))
        }
        guard section.size % entrySize == 0 else {
            throw ELFError(location: location, reason: .sizeNotMultipleOfEntrySize(
                size: section.size, entrySize: entrySize))
        }
        guard !section.isCompressed else { throw ELFError(location: location, reason: .compressedTable) }
    }

    // MARK: - Symbols and relocations

    private func readSymbols(
        of table: ELFSection, in sections: [ELFSection], names: inout NameDecoder
    ) throws(ELFError) -> [ELFSymbol] {
        let location = locationName(table)
        let strings = sections[table.link]
        let stringBytes = strings.offset..<strings.offset + strings.size
        let count = table.size / Self.symbolSize
        var symbols: [ELFSymbol] = []
        symbols.reserveCapacity(count)
        for index in 0..<count {
            let at = table.offset + index * Self.symbolSize
            let nameOffset = u32(at: at)
            let info = bytes[at + 4]
            let other = bytes[at + 5]
            let sectionIndex = Int(u16(at: at + 6))
            let type = SymbolType(rawValue: info & 0xf)
            let isSpecial = sectionIndex == ELFSymbol.undefinedSection || sectionIndex == ELFSymbol.absoluteSection
                || sectionIndex == ELFSymbol.commonSection
            guard isSpecial || (sectionIndex < Self.firstReservedIndex && sectionIndex < sections.count) else {
                throw ELFError(location: location, reason: .symbolSectionOutOfRange(
                    symbol: index, sectionIndex: sectionIndex, sectionCount: sections.count))
            }
            let name: String
            if nameOffset == 0, type == .section, !isSpecial {
                name = sections[sectionIndex].name
            } else {
                name = try names.name(
                    at: nameOffset, table: stringBytes, tableIndex: strings.index, in: bytes,
                    location: "\(location) symbol \(index)")
            }
            symbols.append(ELFSymbol(
                index: index, name: name, value: u64(at: at + 8), size: u64(at: at + 16), type: type,
                binding: SymbolBinding(rawValue: info >> 4), visibility: other & 0x3, sectionIndex: sectionIndex))
        }
        return symbols
    }

    private func readRelocations(_ sections: [ELFSection], symbolCount: Int) throws(ELFError) -> [[ELFRelocation]] {
        var byTarget = [[ELFRelocation]](repeating: [], count: sections.count)
        for section in sections where section.type == ELFSection.typeRelocations {
            let location = locationName(section)
            let target = sections[section.info]  // Checked by checkTables.
            let bound = try relocatableSize(of: target)
            let count = section.size / Self.relocationSize
            // No reserveCapacity here: exact reservations for many REL sections of one target would copy the
            // relocations gathered so far each time (quadratic); appending keeps amortised growth.
            for index in 0..<count {
                let at = section.offset + index * Self.relocationSize
                let offset = u64(at: at)
                let info = u64(at: at + 8)
                let type = UInt32(truncatingIfNeeded: info)
                let symbol = info >> 32
                guard let width = ELFRelocation.patchWidth(of: type) else {
                    throw ELFError(location: location, reason: .unknownRelocationType(relocation: index, type: type))
                }
                guard symbol < UInt64(symbolCount) else {
                    throw ELFError(location: location, reason: .relocationSymbolOutOfRange(
                        relocation: index, symbol: symbol, symbolCount: symbolCount))
                }
                guard offset <= UInt64(bound), UInt64(width) <= UInt64(bound) - offset else {
                    throw ELFError(location: location, reason: .relocationOutOfRange(
                        relocation: index, offset: offset, width: width, targetSize: bound))
                }
                byTarget[target.index].append(ELFRelocation(offset: offset, type: type, symbolIndex: Int(symbol)))
            }
        }
        return byTarget
    }

    /// The size relocations of `section` are relative to: its size, or for a compressed section the uncompressed
    /// size from its `Elf64_Chdr` (`ch_size`, at offset 8).
    private func relocatableSize(of section: ELFSection) throws(ELFError) -> Int {
        guard section.isCompressed else { return section.size }
        guard section.size >= Self.compressionHeaderSize else {
            throw ELFError(location: locationName(section), reason: .badCompressionHeader)
        }
        let uncompressed = u64(at: section.offset + 8)
        guard let size = Int(exactly: uncompressed) else {
            throw ELFError(location: locationName(section), reason: .valueTooLarge(
                field: "ch_size", value: uncompressed))
        }
        return size
    }

    // MARK: - Reading bytes

    private func locationName(_ section: ELFSection) -> String {
        section.name.isEmpty ? "section header \(section.index)" : section.name
    }

    /// `offset..<offset + size` as indices of `bytes`, or nil if any of it lies outside the file.
    func fileRange(offset: UInt64, size: UInt64) -> Range<Int>? {
        let fileSize = UInt64(bytes.count)
        guard offset <= fileSize, size <= fileSize - offset else { return nil }
        return Int(offset)..<Int(offset + size)
    }

    func u16(at index: Int) -> UInt16 {
        let value = UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8
        return isBigEndian ? value.byteSwapped : value
    }

    func u32(at index: Int) -> UInt32 {
        let value = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
            | UInt32(bytes[index + 3]) << 24
        return isBigEndian ? value.byteSwapped : value
    }

    func u64(at index: Int) -> UInt64 {
        let low = UInt64(u32(at: index)), high = UInt64(u32(at: index + 4))
        return isBigEndian ? low << 32 | high : high << 32 | low
    }
}
