/// The validated section headers of any ELF file (32- or 64-bit, either byte order, any machine and file type),
/// with names resolved: enough to find a section's bytes by name, as `bpftool btf dump file` reads the `.BTF` of a
/// BPF object, a kernel image or a kernel module.
///
/// Unless a section is `SHT_NOBITS` or `SHT_NULL`, its data is guaranteed to lie inside ``bytes``. A BPF object is
/// read whole, symbols and relocations included, by ``ELFFile``.
public struct ELFSectionTable: Sendable {
    /// The whole file, as given.
    public let bytes: [UInt8]
    /// The section headers in header order; `sections[0]` is the null section.
    public let sections: [ELFSection]
    /// Whether the file is ELF64 (`ELFCLASS64`) rather than ELF32; libbpf takes the pointer size from it.
    public let is64Bit: Bool
    /// Whether the file is big-endian (`ELFDATA2MSB`).
    public let isBigEndian: Bool

    /// Reads and validates the header and section headers of `bytes`.
    public init(bytes: [UInt8]) throws(ELFError) {
        var parser = ELFParser(bytes: bytes, requiresBPFObject: false)
        self.init(bytes: bytes, sections: try parser.parseSections(), is64Bit: parser.is64Bit,
                  isBigEndian: parser.isBigEndian)
    }

    init(bytes: [UInt8], sections: [ELFSection], is64Bit: Bool, isBigEndian: Bool) {
        self.bytes = bytes
        self.sections = sections
        self.is64Bit = is64Bit
        self.isBigEndian = isBigEndian
    }

    /// Whether `bytes` start with the ELF magic `\x7fELF`.
    public static func isELF(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46])
    }

    /// The first section called `name`, if any (ELF allows duplicate names).
    public func section(named name: String) -> ELFSection? {
        sections.first { $0.name == name }
    }

    /// The section's bytes in the file; empty for `SHT_NOBITS` and `SHT_NULL` sections and for a section that
    /// does not belong to this file. For a compressed section, the compressed bytes including the compression
    /// header.
    public func data(of section: ELFSection) -> ArraySlice<UInt8> {
        guard owns(section), section.type != ELFSection.typeNoBits, section.type != ELFSection.typeNull else {
            return []
        }
        return bytes[section.offset..<section.offset + section.size]
    }

    /// Whether `section` is this file's section at its index (it could come from another file).
    func owns(_ section: ELFSection) -> Bool {
        sections.indices.contains(section.index) && sections[section.index] == section
    }
}
