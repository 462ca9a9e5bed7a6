/// A malformed ELF file: which part (a section name, or "ELF header" / "section header N") and what is wrong.
///
/// Every check of ``ELFFile/init(bytes:)`` and ``ELFSectionTable/init(bytes:)`` that fails produces one of these;
/// none of them is ever a crash.
public struct ELFError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The part of the file at fault: `"ELF header"`, `"section header N"` (before section names are known, or
    /// when the section has no name), or the section's name.
    public let location: String
    /// What is wrong.
    public let reason: Reason

    public init(location: String, reason: Reason) {
        self.location = location
        self.reason = reason
    }

    /// The problems the strict reader reports, one case per check.
    public enum Reason: Hashable, Sendable {
        /// The file holds fewer bytes than its header (64 bytes for ELF64, 52 for ELF32).
        case truncatedHeader(fileSize: Int)
        /// The file does not start with `\x7fELF`.
        case badMagic
        /// `EI_CLASS` is not `ELFCLASS64` (2).
        case wrongClass(UInt8)
        /// `EI_DATA` is not `ELFDATA2LSB` (1).
        case wrongByteOrder(UInt8)
        /// `EI_VERSION` or `e_version` is not `EV_CURRENT` (1).
        case wrongVersion(UInt32)
        /// `e_type` is not `ET_REL` (1).
        case wrongType(UInt16)
        /// `e_machine` is not `EM_BPF` (247).
        case wrongMachine(UInt16)
        /// `e_ehsize` is not 64 (52 for ELF32).
        case wrongHeaderSize(UInt16)
        /// `e_shentsize` is not 64 (40 for ELF32).
        case wrongSectionHeaderSize(UInt16)
        /// `e_shoff` is 0 or the section count is 0: there are no sections to read.
        case noSectionHeaders
        /// The section header table (`count` entries at `offset`) does not lie inside the file.
        case sectionHeadersOutOfRange(offset: UInt64, count: UInt64, fileSize: Int)
        /// Section 0 is not of type `SHT_NULL`.
        case firstSectionNotNull(type: UInt32)
        /// `e_shstrndx` is `SHN_UNDEF`: the file has no section name string table.
        case missingSectionNameTable
        /// `e_shstrndx` (or `sh_link` of section 0 under `SHN_XINDEX`) names no section.
        case sectionNameTableOutOfRange(index: UInt64, sectionCount: Int)
        /// A section used as a string table is not of type `SHT_STRTAB`.
        case notAStringTable(index: Int, type: UInt32)
        /// The section's data `[offset, offset + size)` does not lie inside the file.
        case dataOutOfRange(offset: UInt64, size: UInt64, fileSize: Int)
        /// A header field holds a value too large to be meaningful on this machine.
        case valueTooLarge(field: String, value: UInt64)
        /// `sh_addralign` is neither 0 nor a power of two.
        case badAlignment(UInt64)
        /// A string, symbol or relocation table is compressed (`SHF_COMPRESSED`); only debug data may be.
        case compressedTable
        /// A compressed section (`SHF_COMPRESSED`) lacks a valid 24-byte `Elf64_Chdr`.
        case badCompressionHeader
        /// A name offset lies past the end of its string table.
        case nameOutOfRange(offset: UInt64, tableSize: Int)
        /// A name runs to the end of its string table without a terminating NUL.
        case unterminatedName(offset: UInt64)
        /// The decoded names add up to more than `limit` bytes: names overlap in the string table far beyond
        /// what any compiler emits (a file built to exhaust memory or time).
        case excessiveNameBytes(limit: Int)
        /// `sh_link` names no section, or one of the wrong type.
        case badLink(link: Int, expected: String)
        /// `sh_info` names no section, or one of the wrong kind.
        case badInfo(info: Int, expected: String)
        /// `sh_entsize` is not the fixed entry size of this section type.
        case wrongEntrySize(UInt64, expected: Int)
        /// `sh_size` is not a multiple of the entry size.
        case sizeNotMultipleOfEntrySize(size: Int, entrySize: Int)
        /// The file holds a second `SHT_SYMTAB` section; ELF allows at most one.
        case duplicateSymbolTable(firstIndex: Int)
        /// The symbol table has no entries; it must at least hold the null symbol.
        case emptySymbolTable
        /// A symbol's `st_shndx` is neither a special value (`SHN_UNDEF`, `SHN_ABS`, `SHN_COMMON`) nor the index
        /// of a section.
        case symbolSectionOutOfRange(symbol: Int, sectionIndex: Int, sectionCount: Int)
        /// The section is of type `SHT_RELA`; BPF objects use `SHT_REL`.
        case relaNotSupported
        /// A relocation's type is not one the LLVM BPF backend emits (0-4, 10).
        case unknownRelocationType(relocation: Int, type: UInt32)
        /// A relocation's symbol index is not below the symbol count.
        case relocationSymbolOutOfRange(relocation: Int, symbol: UInt64, symbolCount: Int)
        /// A relocation patches bytes `[offset, offset + width)` that are not all inside its target section.
        case relocationOutOfRange(relocation: Int, offset: UInt64, width: Int, targetSize: Int)
    }

    public var description: String { "\(location): \(reasonText)" }

    /// The description with the location said to be in the ELF container (`ELF header: ...`,
    /// `ELF section header 3: ...`, `ELF section '.text': ...`), for messages about a whole file.
    public var qualifiedDescription: String {
        if location == "ELF header" { return description }
        if location.hasPrefix("section header ") { return "ELF \(description)" }
        return "ELF section '\(location)': \(reasonText)"
    }

    private var reasonText: String {
        switch reason {
        case .truncatedHeader(let size):
            return "file is truncated: \(size) bytes, but an ELF64 header alone needs 64 (an ELF32 one 52)"
        case .badMagic:
            return "not an ELF file (the first 4 bytes are not \\x7fELF)"
        case .wrongClass(let value):
            let name = value == 1 ? "32-bit ELF (ELFCLASS32)" : "unknown ELF class \(value)"
            return "\(name), expected 64-bit ELF (ELFCLASS64, 2)"
        case .wrongByteOrder(let value):
            if value == 2 {
                return "big-endian object (ELFDATA2MSB), expected little-endian; compile with -target bpfel (or bpf)"
            }
            return "unknown byte order \(value) in EI_DATA, expected little-endian (ELFDATA2LSB, 1)"
        case .wrongVersion(let value):
            return "unknown ELF version \(value), expected 1 (EV_CURRENT)"
        case .wrongType(let value):
            return "wrong file type: \(elfTypeName(value)), expected a relocatable object (ET_REL, 1) "
                + "as produced by `clang -target bpf -c`"
        case .wrongMachine(let value):
            return "wrong machine: \(elfMachineName(value)) (\(value)), expected BPF (247)"
        case .wrongHeaderSize(let value):
            return "e_ehsize is \(value), expected 64 for ELF64 (52 for ELF32)"
        case .wrongSectionHeaderSize(let value):
            return "e_shentsize is \(value), expected 64 for ELF64 (40 for ELF32)"
        case .noSectionHeaders:
            return "the file has no section headers; a BPF object needs sections"
        case .sectionHeadersOutOfRange(let offset, let count, let fileSize):
            return "section header table (\(count) entries at offset \(offset)) "
                + "runs past the end of the \(fileSize)-byte file"
        case .firstSectionNotNull(let type):
            return "section 0 has type \(type), expected SHT_NULL (0)"
        case .missingSectionNameTable:
            return "e_shstrndx is 0: the file has no section name string table"
        case .sectionNameTableOutOfRange(let index, let count):
            return "section name string table index \(index) is out of range (the file has \(count) sections)"
        case .notAStringTable(let index, let type):
            return "section \(index) is used as a string table but has type \(type), expected SHT_STRTAB (3)"
        case .dataOutOfRange(let offset, let size, let fileSize):
            return "section data (\(size) bytes at offset \(offset)) runs past the end of the \(fileSize)-byte file"
        case .valueTooLarge(let field, let value):
            return "\(field) is \(value), too large"
        case .badAlignment(let value):
            return "alignment \(value) is neither 0 nor a power of two"
        case .compressedTable:
            return "string, symbol and relocation tables must not be compressed (SHF_COMPRESSED)"
        case .badCompressionHeader:
            return "compressed section (SHF_COMPRESSED) lacks a valid 24-byte Elf64_Chdr"
        case .nameOutOfRange(let offset, let size):
            return "name offset \(offset) is past the end of the \(size)-byte string table"
        case .unterminatedName(let offset):
            return "name at offset \(offset) has no terminating NUL before the end of its string table"
        case .excessiveNameBytes(let limit):
            return "names add up to more than \(limit) bytes; the string table is overlapped abusively"
        case .badLink(let link, let expected):
            return "sh_link \(link) does not name \(expected)"
        case .badInfo(let info, let expected):
            return "sh_info \(info) does not name \(expected)"
        case .wrongEntrySize(let value, let expected):
            return "entry size (sh_entsize) is \(value), expected \(expected)"
        case .sizeNotMultipleOfEntrySize(let size, let entrySize):
            return "size \(size) is not a multiple of the entry size \(entrySize)"
        case .duplicateSymbolTable(let first):
            return "second symbol table (SHT_SYMTAB); section \(first) is already one, ELF allows one"
        case .emptySymbolTable:
            return "symbol table is empty; it must at least hold the null symbol"
        case .symbolSectionOutOfRange(let symbol, let index, _) where index >= 0xff00:
            return "symbol \(symbol) has reserved section index 0x\(String(index, radix: 16)); only SHN_UNDEF, "
                + "SHN_ABS and SHN_COMMON are supported (no SHN_XINDEX extended indices)"
        case .symbolSectionOutOfRange(let symbol, let index, let count):
            return "symbol \(symbol) refers to section \(index), which does not exist (the file has \(count) sections)"
        case .relaNotSupported:
            return "RELA relocation section; BPF objects use REL relocations (SHT_REL) without explicit addends"
        case .unknownRelocationType(let relocation, let type):
            return "relocation \(relocation) has type \(type), which is not a BPF relocation type (0-4, 10)"
        case .relocationSymbolOutOfRange(let relocation, let symbol, let count):
            return "relocation \(relocation) refers to symbol \(symbol), but the symbol table has \(count) symbols"
        case .relocationOutOfRange(let relocation, let offset, let width, let size):
            return "relocation \(relocation) patches \(width) bytes at offset \(offset), "
                + "outside the \(size)-byte target section"
        }
    }
}

/// The name of an `e_type` value, e.g. "shared object (ET_DYN, 3)".
private func elfTypeName(_ value: UInt16) -> String {
    switch value {
    case 0: return "no file type (ET_NONE, 0)"
    case 2: return "executable (ET_EXEC, 2)"
    case 3: return "shared object (ET_DYN, 3)"
    case 4: return "core dump (ET_CORE, 4)"
    default: return "unknown file type \(value)"
    }
}

/// The common name of an `e_machine` value, e.g. "x86-64" for 62.
private func elfMachineName(_ value: UInt16) -> String {
    switch value {
    case 0: return "none"
    case 2: return "SPARC"
    case 3: return "x86"
    case 8: return "MIPS"
    case 20: return "PowerPC"
    case 21: return "PowerPC64"
    case 22: return "S/390"
    case 40: return "ARM"
    case 43: return "SPARC V9"
    case 62: return "x86-64"
    case 183: return "AArch64"
    case 243: return "RISC-V"
    case 258: return "LoongArch"
    default: return "unknown machine"
    }
}
