/// One section header of a validated ``ELFFile``, with its name resolved.
///
/// Unless the section is `SHT_NOBITS` or `SHT_NULL`, `offset..<offset + size` is guaranteed to lie inside the file.
public struct ELFSection: Hashable, Sendable {
    /// The section's index in the section header table.
    public let index: Int
    /// The name from the section name string table (`e_shstrndx`); may be empty, and need not be unique.
    public let name: String
    /// `sh_type`, e.g. ``ELFSection/typeProgBits``.
    public let type: UInt32
    /// `sh_flags`: `SHF_WRITE` (0x1), `SHF_ALLOC` (0x2), `SHF_EXECINSTR` (0x4), `SHF_COMPRESSED` (0x800), ...
    public let flags: UInt64
    /// `sh_offset`: where the data starts in the file.
    public let offset: Int
    /// `sh_size`: the data's size in bytes (for a compressed section, the compressed size).
    public let size: Int
    /// `sh_link`; for `SHT_SYMTAB` the string table, for `SHT_REL` the symbol table.
    public let link: Int
    /// `sh_info`; for `SHT_REL` the section the relocations apply to.
    public let info: Int
    /// `sh_addralign`: 0 or a power of two.
    public let alignment: UInt64
    /// `sh_entsize`: the size of one entry for tables (24 for symbols, 16 for REL), otherwise usually 0.
    public let entrySize: Int

    /// Whether the section holds instructions (`SHF_EXECINSTR`).
    public var isExecutable: Bool { flags & ELFSection.flagExecutable != 0 }
    /// Whether the section occupies no file space (`SHT_NOBITS`, e.g. `.bss`).
    public var isNoBits: Bool { type == ELFSection.typeNoBits }
    /// Whether the section occupies memory at run time (`SHF_ALLOC`).
    public var isAllocated: Bool { flags & ELFSection.flagAllocated != 0 }
    /// Whether the section is writable at run time (`SHF_WRITE`).
    public var isWritable: Bool { flags & ELFSection.flagWritable != 0 }
    /// Whether the section's data is compressed (`SHF_COMPRESSED`), as debug sections are with `clang -gz`.
    public var isCompressed: Bool { flags & ELFSection.flagCompressed != 0 }
}

extension ELFSection {
    /// An unused section header. The corresponding C constant is `SHT_NULL`.
    public static let typeNull: UInt32 = 0
    /// Program data: code, initialised data. The corresponding C constant is `SHT_PROGBITS`.
    public static let typeProgBits: UInt32 = 1
    /// A symbol table. The corresponding C constant is `SHT_SYMTAB`.
    public static let typeSymbolTable: UInt32 = 2
    /// A string table. The corresponding C constant is `SHT_STRTAB`.
    public static let typeStringTable: UInt32 = 3
    /// Relocations with explicit addends (rejected in BPF objects). The corresponding C constant is `SHT_RELA`.
    public static let typeRelocationsWithAddends: UInt32 = 4
    /// Zero-initialised data without file space. The corresponding C constant is `SHT_NOBITS`.
    public static let typeNoBits: UInt32 = 8
    /// Relocations without explicit addends. The corresponding C constant is `SHT_REL`.
    public static let typeRelocations: UInt32 = 9

    /// Writable at run time. The corresponding C constant is `SHF_WRITE`.
    public static let flagWritable: UInt64 = 0x1
    /// Occupies memory at run time. The corresponding C constant is `SHF_ALLOC`.
    public static let flagAllocated: UInt64 = 0x2
    /// Holds instructions. The corresponding C constant is `SHF_EXECINSTR`.
    public static let flagExecutable: UInt64 = 0x4
    /// Data starts with an `Elf64_Chdr` and is compressed. The corresponding C constant is `SHF_COMPRESSED`.
    public static let flagCompressed: UInt64 = 0x800
}
