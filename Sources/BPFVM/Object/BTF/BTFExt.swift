/// The `.BTF.ext` section: function info, line info and CO-RE relocation records per ELF
/// section name, validated as libbpf's `btf_ext__new` does plus the references into the BTF.
///
/// Records step by the stored `rec_size`, so newer formats with trailing fields parse. Every
/// section name, file name, source line and access string is a valid string of the BTF; every
/// function-info type is a FUNC; every CO-RE kind is known and its type exists.
public struct BTFExt: Sendable {
    /// Function info by ELF section name, in file order.
    public let functionInfo: [String: [BTFFunctionInfo]]
    /// Line info by ELF section name, in file order.
    public let lineInfo: [String: [BTFLineInfo]]
    /// CO-RE relocations by ELF section name, in file order.
    public let coreRelocations: [String: [BTFCoreRelocation]]

    /// `hdr_len` with the CO-RE fields.
    static let fullHeaderLength = 32
    /// `hdr_len` without them.
    static let minimumHeaderLength = 24

    /// Parses `bytes`, the contents of a `.BTF.ext` section whose strings and types are in `btf`.
    public init(bytes: [UInt8], btf: BTF) throws(BTFError) {
        guard bytes.count >= 8 else {
            throw BTFError(.extHeader, .truncatedHeader(byteCount: bytes.count, needed: Self.minimumHeaderLength))
        }
        guard let bigEndian = BTFByteReader.byteOrder(ofMagicAt: 0, in: bytes) else {
            throw BTFError(.extHeader, .badMagic(UInt16(bytes[0]) | UInt16(bytes[1]) << 8))
        }
        let reader = BTFByteReader(bytes: bytes, isBigEndian: bigEndian)
        guard reader.u8(2) == 1 else { throw BTFError(.extHeader, .unsupportedVersion(reader.u8(2))) }
        guard reader.u8(3) == 0 else { throw BTFError(.extHeader, .unsupportedFlags(reader.u8(3))) }
        let headerLength = Int(reader.u32(4))
        guard headerLength <= bytes.count else {
            throw BTFError(.extHeader, .headerBeyondData(hdrLen: headerLength, byteCount: bytes.count))
        }
        guard headerLength >= Self.minimumHeaderLength else {
            throw BTFError(.extHeader, .headerTooShort(hdrLen: headerLength, minimum: Self.minimumHeaderLength))
        }
        if headerLength > Self.fullHeaderLength,
           let nonZero = bytes[Self.fullHeaderLength..<headerLength].firstIndex(where: { $0 != 0 })
        {
            throw BTFError(.extHeader, .nonZeroHeaderTail(offset: nonZero))
        }
        guard bytes.count > headerLength else { throw BTFError(.extHeader, .noData) }

        let parser = Parser(reader: reader, headerLength: headerLength, btf: btf,
                            names: BTFNameDecoder(table: btf.strings, inputSize: bytes.count + btf.strings.bytes.count))
        var functions: [String: [BTFFunctionInfo]] = [:]
        var lines: [String: [BTFLineInfo]] = [:]
        var relocations: [String: [BTFCoreRelocation]] = [:]
        try parser.forEachRecord(.functionInfo, headerField: 8) { (section, record, index, previous) throws(BTFError) in
            let offset = try parser.instructionOffset(record, .functionInfo, index)
            let typeID = parser.reader.u32(record + 4)
            guard case .function? = btf.type(typeID)?.kind else {
                let kind = btf.type(typeID)?.kind.code.name
                throw BTFError(.extRecord(.functionInfo, index: index),
                               kind.map { .invalidReference(what: "function info type", id: typeID, kind: $0) }
                                   ?? .typeIDOutOfRange(typeID))
            }
            if let previous, offset <= previous {
                throw BTFError(.extRecord(.functionInfo, index: index),
                               .functionOffsetsNotIncreasing(offset: offset, previous: previous))
            }
            functions[section, default: []].append(BTFFunctionInfo(instructionOffset: offset, typeID: typeID))
            return offset
        }
        try parser.forEachRecord(.lineInfo, headerField: 16) { (section, record, index, _) throws(BTFError) in
            let offset = try parser.instructionOffset(record, .lineInfo, index)
            let file = try parser.string(record + 4, what: "file name", .lineInfo, index)
            let line = try parser.string(record + 8, what: "source line", .lineInfo, index)
            let position = parser.reader.u32(record + 12)
            lines[section, default: []].append(BTFLineInfo(instructionOffset: offset, fileName: file, line: line,
                                                           lineNumber: Int(position >> 10), column: Int(position & 0x3ff)))
            return offset
        }
        if headerLength >= Self.fullHeaderLength {
            try parser.forEachRecord(.coreRelocation, headerField: 24) { (section, record, index, _) throws(BTFError) in
                let offset = try parser.instructionOffset(record, .coreRelocation, index)
                let location = BTFError.Location.extRecord(.coreRelocation, index: index)
                let typeID = parser.reader.u32(record + 4)
                guard btf.type(typeID) != nil else { throw BTFError(location, .typeIDOutOfRange(typeID)) }
                let access = try parser.string(record + 8, what: "access string", .coreRelocation, index)
                let rawKind = parser.reader.u32(record + 12)
                guard let kind = BTFCoreRelocationKind(rawValue: rawKind) else {
                    throw BTFError(location, .invalidRelocationKind(rawKind))
                }
                guard Self.isValidAccessString(access) else { throw BTFError(location, .invalidAccessString(access)) }
                relocations[section, default: []].append(BTFCoreRelocation(instructionOffset: offset, typeID: typeID,
                                                                            accessString: access, kind: kind))
                return offset
            }
        }
        functionInfo = functions
        lineInfo = lines
        coreRelocations = relocations
    }

    /// Colon-separated decimal numbers, e.g. `0`, `0:1:5`.
    static func isValidAccessString(_ text: String) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        return !text.isEmpty && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 10 && part.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
    }

    /// Walks the sub-sections as libbpf's `btf_ext_setup_info` does.
    struct Parser {
        let reader: BTFByteReader
        let headerLength: Int
        let btf: BTF
        let names: BTFNameDecoder

        /// Calls `body(sectionName, recordOffset, recordIndex, previousOffsetInBlock)` for every
        /// record of the sub-section whose `off`/`len` header fields are at `headerField`; `body`
        /// returns the record's instruction offset.
        func forEachRecord(
            _ subsection: BTFExtSubsection, headerField: Int,
            _ body: (String, Int, Int, Int?) throws(BTFError) -> Int
        ) throws(BTFError) {
            let offset = Int(reader.u32(headerField)), length = Int(reader.u32(headerField + 4))
            guard length > 0 else { return }
            let here = BTFError.Location.extSubsection(subsection)
            guard offset % 4 == 0 else {
                throw BTFError(here, .unalignedSection(section: subsection.rawValue, offset: offset))
            }
            let available = reader.count - headerLength
            guard offset <= available, length <= available - offset else {
                throw BTFError(here, .sectionOutOfBounds(section: subsection.rawValue, offset: offset, length: length,
                                                         available: available))
            }
            let start = headerLength + offset, end = start + length
            guard length >= 4 else { throw BTFError(here, .missingRecordSize) }
            let recordSize = Int(reader.u32(start))
            guard recordSize >= subsection.minimumRecordSize, recordSize % 4 == 0 else {
                throw BTFError(here, .invalidRecordSize(recordSize, minimum: subsection.minimumRecordSize))
            }
            var cursor = start + 4
            guard cursor < end else { throw BTFError(here, .noRecords) }
            var index = 0
            while cursor < end {
                guard end - cursor >= 8 else { throw BTFError(here, .truncatedSectionHeader(offset: cursor - headerLength)) }
                let name = try sectionName(at: cursor, subsection, index)
                let count = Int(reader.u32(cursor + 4))
                guard count > 0 else { throw BTFError(here, .zeroRecords(section: name)) }
                let (total, overflow) = count.multipliedReportingOverflow(by: recordSize)
                guard !overflow, total <= end - cursor - 8 else {
                    throw BTFError(here, .recordsBeyondEnd(section: name, count: count))
                }
                cursor += 8
                var previous: Int?
                for _ in 0..<count {
                    previous = try body(name, cursor, index, previous)
                    cursor += recordSize
                    index += 1
                }
            }
        }

        func sectionName(at offset: Int, _ subsection: BTFExtSubsection, _ index: Int) throws(BTFError) -> String {
            let nameOffset = reader.u32(offset)
            guard btf.strings.isValid(nameOffset) else {
                throw BTFError(.extRecord(subsection, index: index),
                               .stringOffsetOutOfRange(what: "section name", offset: nameOffset))
            }
            let name = try names.lookup(nameOffset).text
            guard !name.isEmpty else { throw BTFError(.extRecord(subsection, index: index), .emptySectionName) }
            return name
        }

        func instructionOffset(_ record: Int, _ subsection: BTFExtSubsection, _ index: Int) throws(BTFError) -> Int {
            let offset = Int(reader.u32(record))
            guard offset % 8 == 0 else {
                throw BTFError(.extRecord(subsection, index: index), .unalignedInstructionOffset(offset))
            }
            return offset
        }

        func string(_ field: Int, what: String, _ subsection: BTFExtSubsection, _ index: Int) throws(BTFError) -> String {
            let offset = reader.u32(field)
            guard btf.strings.isValid(offset) else {
                throw BTFError(.extRecord(subsection, index: index), .stringOffsetOutOfRange(what: what, offset: offset))
            }
            return try names.lookup(offset).text
        }
    }
}
