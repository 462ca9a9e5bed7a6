/// A parsed, validated ELF64 little-endian relocatable object for EM_BPF (247).
///
/// Construction validates every offset, size, index and count before use, so every accessor is safe and total:
/// section data lies inside ``bytes``, symbol section indices and relocation symbol indices are in range, and each
/// relocation's patched bytes lie inside its target section. Malformed input yields an ``ELFError``, never a crash.
public struct ELFFile: Sendable {
    /// The file's sections.
    public let sectionTable: ELFSectionTable
    /// The whole file, as given.
    public var bytes: [UInt8] { sectionTable.bytes }
    /// The section headers in header order; `sections[0]` is the null section.
    public var sections: [ELFSection] { sectionTable.sections }
    /// The entries of `.symtab` (the `SHT_SYMTAB` section) in order; `symbols[0]` is the null symbol.
    /// Empty if the file has no symbol table.
    public let symbols: [ELFSymbol]
    /// For each section index, the relocations that apply to it, in file order.
    private let relocationsByTarget: [[ELFRelocation]]

    /// Parses and validates `bytes` as a BPF relocatable object.
    public init(bytes: [UInt8]) throws(ELFError) {
        var parser = ELFParser(bytes: bytes)
        let parsed = try parser.parse()
        self.sectionTable = ELFSectionTable(bytes: bytes, sections: parsed.sections, is64Bit: true, isBigEndian: false)
        self.symbols = parsed.symbols
        self.relocationsByTarget = parsed.relocationsByTarget
    }

    /// The first section called `name`, if any (ELF allows duplicate names).
    public func section(named name: String) -> ELFSection? {
        sectionTable.section(named: name)
    }

    /// The section's bytes in the file; empty for `SHT_NOBITS` and `SHT_NULL` sections and for a section that
    /// does not belong to this file. For a compressed section, the compressed bytes including the `Elf64_Chdr`.
    public func data(of section: ELFSection) -> ArraySlice<UInt8> {
        sectionTable.data(of: section)
    }

    /// The REL relocations that apply to `section` (from the SHT_REL section whose sh_info is its index), in file
    /// order; several REL sections for one target are concatenated in header order.
    public func relocations(for section: ELFSection) -> [ELFRelocation] {
        sectionTable.owns(section) ? relocationsByTarget[section.index] : []
    }
}
