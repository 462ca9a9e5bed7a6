/// The BTF a file holds, found as `bpftool btf dump file` finds it: the `.BTF` section of an ELF file (a BPF
/// object, a kernel image or module: any class, byte order or machine), or the whole file when it starts with the
/// BTF magic (a raw BTF file such as `/sys/kernel/btf/vmlinux`). Nothing else of the file is read.
public struct BTFSource: Sendable {
    /// The BTF data, not yet validated.
    public let bytes: [UInt8]
    /// The pointer size the ELF class implies (8 for ELF64, 4 for ELF32), which libbpf's C dumper uses; nil for
    /// raw BTF, whose pointer size libbpf guesses from the types.
    public let pointerSize: Int?

    /// Finds the BTF in the contents of a file.
    public init(file: [UInt8]) throws(BTFSourceError) {
        if ELFSectionTable.isELF(file) {
            let table: ELFSectionTable
            do { table = try ELFSectionTable(bytes: file) } catch { throw .elf(error) }
            guard let section = table.section(named: ".BTF") else { throw .noBTFSection }
            bytes = Array(table.data(of: section))
            pointerSize = table.is64Bit ? 8 : 4
            return
        }
        guard BTFByteReader.byteOrder(ofMagicAt: 0, in: file) != nil else { throw .notBTF }
        bytes = file
        pointerSize = nil
    }

    /// The BTF, parsed and validated.
    public func parse() throws(BTFError) -> BTF {
        try BTF(bytes: bytes)
    }
}

/// Why a file holds no BTF to read.
public enum BTFSourceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file starts with neither the ELF magic nor the BTF magic.
    case notBTF
    /// The ELF container is malformed.
    case elf(ELFError)
    /// The ELF file has no `.BTF` section.
    case noBTFSection

    public var description: String {
        switch self {
        case .notBTF: "neither an ELF file nor raw BTF (no 0x7f 'ELF' or 0xeb9f magic)"
        case .elf(let error): error.qualifiedDescription
        case .noBTFSection: "the file has no .BTF section; compile it with -g"
        }
    }
}
