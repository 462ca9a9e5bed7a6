/// Just enough of an ELF reader to find a section's bytes by name: the file header, section
/// headers and the section-name string table, for 32- and 64-bit, little- and big-endian files.
/// Every offset is bounds-checked.
struct ELFSectionReader {
    let bytes: [UInt8]
    let is64Bit: Bool
    let isBigEndian: Bool
    /// (name offset, file offset, size, type) of every section.
    private var sections: [(name: UInt32, offset: Int, size: Int, type: UInt32)] = []
    private var namesSection = 0

    static func isELF(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x7f && bytes[1] == 0x45 && bytes[2] == 0x4c && bytes[3] == 0x46
    }

    init(bytes: [UInt8]) throws(BTFDumpError) {
        self.bytes = bytes
        guard bytes.count >= 52 else { throw .invalidELF("file header truncated") }
        switch bytes[4] {
        case 1: is64Bit = false
        case 2: is64Bit = true
        default: throw .invalidELF("unknown ELF class \(bytes[4])")
        }
        switch bytes[5] {
        case 1: isBigEndian = false
        case 2: isBigEndian = true
        default: throw .invalidELF("unknown ELF data encoding \(bytes[5])")
        }
        guard !is64Bit || bytes.count >= 64 else { throw .invalidELF("file header truncated") }
        let headerOffset = is64Bit ? read(0x28, 8) : read(0x20, 4)
        let entrySize = read(is64Bit ? 0x3a : 0x2e, 2)
        var count = read(is64Bit ? 0x3c : 0x30, 2)
        var names = read(is64Bit ? 0x3e : 0x32, 2)
        let minimumEntry = is64Bit ? 64 : 40
        guard headerOffset > 0 else { throw .invalidELF("no section headers") }
        guard entrySize >= minimumEntry else { throw .invalidELF("section header size \(entrySize) is too small") }
        guard headerOffset <= bytes.count - minimumEntry else { throw .invalidELF("section headers outside the file") }
        if count == 0 { count = sectionField(headerOffset, 0x20, 0x14) }
        if names == 0xffff { names = read(headerOffset + (is64Bit ? 0x28 : 0x18), 4) }
        guard count <= (bytes.count - headerOffset) / entrySize else {
            throw .invalidELF("\(count) section headers do not fit in the file")
        }
        for index in 0..<count {
            let base = headerOffset + index * entrySize
            let name = UInt32(truncatingIfNeeded: read(base, 4))
            let type = UInt32(truncatingIfNeeded: read(base + 4, 4))
            let offset = sectionField(base, 0x18, 0x10)
            let size = sectionField(base, 0x20, 0x14)
            sections.append((name, offset, size, type))
        }
        guard names < sections.count else { throw .invalidELF("section name table index \(names) out of range") }
        namesSection = names
    }

    /// The bytes of the first section named `name` (empty for a NOBITS section).
    func section(named name: String) -> ArraySlice<UInt8>? {
        let target = Array(name.utf8)
        let table = sections[namesSection]
        guard let tableBytes = contents(table.offset, table.size, type: table.type) else { return nil }
        for section in sections {
            let start = Int(section.name)
            guard start < tableBytes.count else { continue }
            let nameBytes = tableBytes[(tableBytes.startIndex + start)...].prefix { $0 != 0 }
            if nameBytes.elementsEqual(target) { return contents(section.offset, section.size, type: section.type) }
        }
        return nil
    }

    private func contents(_ offset: Int, _ size: Int, type: UInt32) -> ArraySlice<UInt8>? {
        if type == 8 { return [] }  // SHT_NOBITS
        guard offset >= 0, size >= 0, offset <= bytes.count, size <= bytes.count - offset else { return nil }
        return bytes[offset..<offset + size]
    }

    private func sectionField(_ base: Int, _ offset64: Int, _ offset32: Int) -> Int {
        is64Bit ? read(base + offset64, 8) : read(base + offset32, 4)
    }

    /// An unsigned field of `width` bytes at `offset` (0 when out of range; clamped to Int.max).
    private func read(_ offset: Int, _ width: Int) -> Int {
        guard offset >= 0, offset <= bytes.count - width else { return 0 }
        var value: UInt64 = 0
        for index in 0..<width {
            let byte = UInt64(bytes[offset + (isBigEndian ? index : width - 1 - index)])
            value = value << 8 | byte
        }
        return value > UInt64(Int.max) ? Int.max : Int(value)
    }
}
