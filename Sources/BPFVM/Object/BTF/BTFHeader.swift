/// The header of a `.BTF` section: byte order, version, flags and where the type and string
/// sections are, as offsets relative to the end of the header.
public struct BTFHeader: Hashable, Sendable {
    /// Whether the data is big-endian (the magic reads `eb 9f`).
    public let isBigEndian: Bool
    public let version: UInt8
    public let flags: UInt8
    /// `hdr_len`: the header's size in bytes (24 from clang).
    public let headerLength: Int
    public let typeOffset: Int
    public let typeLength: Int
    public let stringOffset: Int
    public let stringLength: Int

    /// The size of the header fields this parser knows.
    static let knownLength = 24
    /// `BTF_MAGIC`.
    static let magic: UInt16 = 0xeb9f

    /// Parses and checks the header as the kernel's `btf_parse_hdr` and `btf_check_sec_info` do.
    init(bytes: [UInt8]) throws(BTFError) {
        guard bytes.count >= 8 else {
            throw BTFError(.header, .truncatedHeader(byteCount: bytes.count, needed: Self.knownLength))
        }
        guard let bigEndian = BTFByteReader.byteOrder(ofMagicAt: 0, in: bytes) else {
            throw BTFError(.header, .badMagic(UInt16(bytes[0]) | UInt16(bytes[1]) << 8))
        }
        let reader = BTFByteReader(bytes: bytes, isBigEndian: bigEndian)
        let headerLength = Int(reader.u32(4))
        guard headerLength <= bytes.count else {
            throw BTFError(.header, .headerBeyondData(hdrLen: headerLength, byteCount: bytes.count))
        }
        guard headerLength >= Self.knownLength else {
            throw BTFError(.header, .headerTooShort(hdrLen: headerLength, minimum: Self.knownLength))
        }
        if let nonZero = bytes[Self.knownLength..<headerLength].firstIndex(where: { $0 != 0 }) {
            throw BTFError(.header, .nonZeroHeaderTail(offset: nonZero))
        }
        version = reader.u8(2)
        flags = reader.u8(3)
        guard version == 1 else { throw BTFError(.header, .unsupportedVersion(version)) }
        guard flags == 0 else { throw BTFError(.header, .unsupportedFlags(flags)) }
        guard bytes.count > headerLength else { throw BTFError(.header, .noData) }
        isBigEndian = bigEndian
        self.headerLength = headerLength
        typeOffset = Int(reader.u32(8))
        typeLength = Int(reader.u32(12))
        stringOffset = Int(reader.u32(16))
        stringLength = Int(reader.u32(20))
        try Self.checkSections([("type", typeOffset, typeLength), ("string", stringOffset, stringLength)],
                               available: bytes.count - headerLength)
    }

    /// The kernel's `btf_check_sec_info`: sorted by offset, the sections must tile the data after
    /// the header exactly, without gaps, overlaps or trailing bytes.
    static func checkSections(_ sections: [(name: String, offset: Int, length: Int)], available: Int) throws(BTFError) {
        let sorted = sections.sorted { ($0.offset, $0.length) < ($1.offset, $1.length) }
        var total = 0
        for section in sorted {
            if section.offset > available {
                throw BTFError(.header, .sectionOutOfBounds(section: section.name, offset: section.offset,
                                                            length: section.length, available: available))
            }
            if total < section.offset { throw BTFError(.header, .sectionGap(section: section.name, offset: total)) }
            if total > section.offset {
                throw BTFError(.header, .sectionOverlap(section: section.name, offset: section.offset))
            }
            if available - total < section.length {
                throw BTFError(.header, .sectionOutOfBounds(section: section.name, offset: section.offset,
                                                            length: section.length, available: available))
            }
            total += section.length
        }
        if total != available { throw BTFError(.header, .trailingData(byteCount: available - total)) }
    }
}
