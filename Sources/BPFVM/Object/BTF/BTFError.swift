/// Why a `.BTF` or `.BTF.ext` section is malformed: where the problem is (the header, a type by
/// id, a member of a type, a `.BTF.ext` record) and what the kernel's or libbpf's check says.
public struct BTFError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where the problem is.
    public let location: Location
    /// What is wrong.
    public let reason: Reason

    public init(_ location: Location, _ reason: Reason) {
        self.location = location
        self.reason = reason
    }

    /// A place inside `.BTF` or `.BTF.ext`.
    public enum Location: Hashable, Sendable {
        /// The `.BTF` header or the layout of its sections.
        case header
        /// The string section of `.BTF`.
        case stringSection
        /// The type section of `.BTF` as a whole.
        case typeSection
        /// The type with this id (types are numbered from 1 in section order).
        case type(UInt32)
        /// Member, parameter, enumerator or DATASEC entry `index` (from 0) of the type with this id.
        case component(type: UInt32, index: Int)
        /// The `.BTF.ext` header or the layout of its sub-sections.
        case extHeader
        /// One sub-section of `.BTF.ext` as a whole.
        case extSubsection(BTFExtSubsection)
        /// Record `index` (from 0, counted over the whole sub-section) of a `.BTF.ext` sub-section.
        case extRecord(BTFExtSubsection, index: Int)
    }

    /// The problems the parser reports, named after the kernel's and libbpf's checks.
    public enum Reason: Hashable, Sendable {
        // Header and layout.
        /// Fewer bytes than a header needs.
        case truncatedHeader(byteCount: Int, needed: Int)
        /// The magic is neither `0xeb9f` nor its byte swap.
        case badMagic(UInt16)
        /// A version other than 1.
        case unsupportedVersion(UInt8)
        /// Non-zero header flags.
        case unsupportedFlags(UInt8)
        /// `hdr_len` is smaller than the fields this format requires.
        case headerTooShort(hdrLen: Int, minimum: Int)
        /// `hdr_len` is larger than the data.
        case headerBeyondData(hdrLen: Int, byteCount: Int)
        /// Header bytes past the known fields are not zero.
        case nonZeroHeaderTail(offset: Int)
        /// Nothing follows the header.
        case noData
        /// A section does not fit inside the data.
        case sectionOutOfBounds(section: String, offset: Int, length: Int, available: Int)
        /// Bytes between sections belong to none of them.
        case sectionGap(section: String, offset: Int)
        /// Two sections overlap.
        case sectionOverlap(section: String, offset: Int)
        /// Bytes after the last section belong to no section.
        case trailingData(byteCount: Int)
        /// A section offset is not a multiple of 4.
        case unalignedSection(section: String, offset: Int)
        /// The type section is empty.
        case noTypes
        /// The string section does not end the data.
        case stringSectionNotAtEnd
        /// The string section is empty.
        case emptyStringSection
        /// The string section does not start with a NUL byte (offset 0 must be the empty name).
        case stringSectionMissingLeadingNUL
        /// The string section's last byte is not NUL, so its last string is unterminated.
        case stringSectionMissingTrailingNUL
        /// The string section is larger than name offsets (24 bits) can address.
        case stringSectionTooLarge(length: Int)
        /// The names the records use add up to far more bytes than the input holds (records
        /// naming many different offsets inside very long strings).
        case namesTooLarge

        // Type records.
        /// The type section ends inside a record.
        case truncatedType(needed: Int, available: Int)
        /// Bits of `info` that no kind uses are set.
        case invalidInfo(UInt32)
        /// The kind number is 0 or above 19.
        case invalidKind(UInt8)
        /// More types than type ids can number (`0xfffff`).
        case tooManyTypes
        /// A name offset points outside the string section.
        case nameOffsetOutOfRange(UInt32)
        /// This kind must be anonymous.
        case nameNotAllowed(String)
        /// This kind must have a name.
        case missingName
        /// The name is not a C identifier (letters, digits, `_` and `.`, not starting with a digit).
        case invalidName(String)
        /// `vlen` must be 0 for this kind.
        case nonZeroVlen(Int)
        /// `kind_flag` must be 0 for this kind.
        case unexpectedKindFlag
        /// The `size` field must be 0 for this kind.
        case nonZeroSize(UInt32)
        /// The `type` field must be 0 for this kind.
        case nonZeroTypeField(UInt32)
        /// A size this kind does not allow.
        case invalidSize(Int, allowed: String)
        /// The INT data word has reserved bits set.
        case invalidIntData(UInt32)
        /// An INT's bit offset plus width exceeds 128 bits.
        case intBitsExceed128(Int)
        /// An INT's bit offset plus width does not fit its size.
        case intBitsExceedSize(bits: Int, size: Int)
        /// An INT encoding other than none, SIGNED, CHAR or BOOL.
        case invalidIntEncoding(UInt8)
        /// A type id above the maximum or past the last type.
        case typeIDOutOfRange(UInt32)
        /// A reference that may not be void (type id 0).
        case voidNotAllowed(what: String)
        /// A reference to a type of a kind that is not allowed here.
        case invalidReference(what: String, id: UInt32, kind: String)
        /// A FUNC or VAR linkage value this parser does not know.
        case invalidLinkage(UInt32)
        /// A member's bit offset is smaller than the previous member's.
        case memberOffsetDecreasing(bitOffset: Int, previous: Int)
        /// A union member's bit offset is not 0.
        case unionMemberOffsetNotZero(bitOffset: Int)
        /// A member starts after the end of its struct.
        case memberOffsetBeyondStruct(bitOffset: Int, structSize: Int)
        /// A member's bytes reach past the end of its struct.
        case memberExceedsStruct(bitOffset: Int, bits: Int, structSize: Int)
        /// A non-bitfield member does not start on a byte boundary.
        case memberNotByteAligned(bitOffset: Int)
        /// A FLOAT member is not aligned to its size (at most 8).
        case memberMisaligned(bitOffset: Int, alignment: Int)
        /// A bitfield is wider than its type, or declared on a type that cannot hold bitfields.
        case invalidBitfieldSize(Int)
        /// A bitfield member (kind_flag set) whose INT is not a plain 8/16/32/64/128-bit integer.
        case bitfieldBaseNotRegularInt
        /// A data word copy of more than 128 bits would be needed to read the member.
        case memberTooWide(bits: Int)
        /// An array's element count times element size overflows 32 bits.
        case arraySizeOverflow
        /// An array of INT that is itself a bitfield-style INT.
        case arrayOfIrregularInt
        /// An array's index type is not a plain integer.
        case invalidArrayIndexType(UInt32)
        /// A FUNC parameter without a name, or an unnamed vararg marker in the middle.
        case invalidParameter(index: Int, detail: String)
        /// A FUNC_PROTO return type without a size.
        case invalidReturnType(UInt32)
        /// A DATASEC entry's offset or size is out of order or out of the section.
        case invalidSectionEntry(offset: Int, size: Int, sectionSize: Int)
        /// The DATASEC entries are larger in total than the section.
        case sectionEntriesExceedSize(total: Int, sectionSize: Int)
        /// A DATASEC entry is smaller than its variable's type.
        case sectionEntryTooSmall(size: Int, typeSize: Int)
        /// A DECL_TAG component index below -1 or past the tagged type's members or parameters.
        case invalidComponentIndex(Int)
        /// Resolving a type follows references in a circle that no pointer breaks.
        case loopDetected
        /// Resolving a type needs more than 32 nested steps.
        case resolveDepthExceeded
        /// A TYPE_TAG follows a modifier (const, volatile, restrict, typedef) in a chain.
        case typeTagAfterModifier
        /// A modifier chain longer than 32 or circular.
        case modifierChainTooLong
        /// A reference resolves to a type without a size where a size is needed.
        case unsizedType(UInt32)
        /// The kernel's final consistency check of a resolved type failed.
        case invalidResolveState

        // .BTF.ext.
        /// A `.BTF.ext` sub-section has no record size word.
        case missingRecordSize
        /// A record size smaller than the known record or not a multiple of 4.
        case invalidRecordSize(Int, minimum: Int)
        /// A `.BTF.ext` sub-section has a record size but no records.
        case noRecords
        /// A per-section block header does not fit.
        case truncatedSectionHeader(offset: Int)
        /// A per-section block declares 0 records.
        case zeroRecords(section: String)
        /// A per-section block's records run past the sub-section.
        case recordsBeyondEnd(section: String, count: Int)
        /// A string offset (section name, file name, source line, access string) outside `.BTF`'s strings.
        case stringOffsetOutOfRange(what: String, offset: UInt32)
        /// An empty ELF section name.
        case emptySectionName
        /// A byte offset that is not a multiple of the instruction size (8).
        case unalignedInstructionOffset(Int)
        /// Function info offsets must increase strictly within a section.
        case functionOffsetsNotIncreasing(offset: Int, previous: Int)
        /// A CO-RE relocation kind above 12.
        case invalidRelocationKind(UInt32)
        /// A CO-RE access string that is not colon-separated decimal numbers.
        case invalidAccessString(String)
    }

    public var description: String {
        "\(locationText): \(reasonText)"
    }

    private var locationText: String {
        switch location {
        case .header: "BTF header"
        case .stringSection: "BTF string section"
        case .typeSection: "BTF type section"
        case .type(let id): "BTF type [\(id)]"
        case .component(let id, let index): "BTF type [\(id)] member #\(index)"
        case .extHeader: "BTF.ext header"
        case .extSubsection(let sub): "BTF.ext \(sub.rawValue)"
        case .extRecord(let sub, let index): "BTF.ext \(sub.rawValue) record #\(index)"
        }
    }

    private var reasonText: String {
        switch reason {
        case .truncatedHeader(let count, let needed):
            "only \(count) bytes, a header needs \(needed)"
        case .badMagic(let magic):
            "bad magic 0x\(hex(magic, width: 4)) (expected 0xeb9f); this is not BTF data"
        case .unsupportedVersion(let version):
            "unsupported version \(version) (only 1 exists)"
        case .unsupportedFlags(let flags):
            "unsupported flags 0x\(hex(flags, width: 2)) (must be 0)"
        case .headerTooShort(let length, let minimum):
            "hdr_len \(length) is shorter than the \(minimum) bytes of the known fields"
        case .headerBeyondData(let length, let count):
            "hdr_len \(length) is larger than the \(count) bytes of data"
        case .nonZeroHeaderTail(let offset):
            "unknown header byte at offset \(offset) is not zero (header from a newer format?)"
        case .noData:
            "nothing follows the header"
        case .sectionOutOfBounds(let section, let offset, let length, let available):
            "\(section) section (offset \(offset), length \(length)) does not fit in the \(available) bytes after the header"
        case .sectionGap(let section, let offset):
            "unused bytes before the \(section) section at offset \(offset)"
        case .sectionOverlap(let section, let offset):
            "the \(section) section at offset \(offset) overlaps the previous section"
        case .trailingData(let count):
            "\(count) bytes after the last section belong to no section"
        case .unalignedSection(let section, let offset):
            "\(section) section offset \(offset) is not a multiple of 4"
        case .noTypes:
            "the type section is empty"
        case .stringSectionNotAtEnd:
            "the string section must end the data"
        case .emptyStringSection:
            "the string section is empty (it needs at least the empty name)"
        case .stringSectionMissingLeadingNUL:
            "the string section must start with a NUL byte (offset 0 is the empty name)"
        case .stringSectionMissingTrailingNUL:
            "the string section's last byte is not NUL, so its last string is unterminated"
        case .stringSectionTooLarge(let length):
            "the string section (\(length) bytes) is larger than 24-bit name offsets can address"
        case .namesTooLarge:
            "the names the types use add up to far more bytes than the data holds"
        case .truncatedType(let needed, let available):
            "the record needs \(needed) bytes but only \(available) are left in the type section"
        case .invalidInfo(let info):
            "info 0x\(hex(info, width: 8)) has reserved bits set"
        case .invalidKind(let kind):
            "unknown kind \(kind) (valid: 1-19)"
        case .tooManyTypes:
            "more than 0xfffff types"
        case .nameOffsetOutOfRange(let offset):
            "name offset \(offset) is outside the string section"
        case .nameNotAllowed(let name):
            "must be anonymous but is named '\(name)'"
        case .missingName:
            "must have a name"
        case .invalidName(let name):
            "'\(name)' is not a valid identifier"
        case .nonZeroVlen(let vlen):
            "vlen is \(vlen) but must be 0"
        case .unexpectedKindFlag:
            "kind_flag is set but this kind does not use it"
        case .nonZeroSize(let size):
            "size is \(size) but must be 0"
        case .nonZeroTypeField(let value):
            "type field is \(value) but must be 0"
        case .invalidSize(let size, let allowed):
            "size \(size) is not allowed (\(allowed))"
        case .invalidIntData(let data):
            "INT data 0x\(hex(data, width: 8)) has reserved bits set"
        case .intBitsExceed128(let bits):
            "bit offset plus width (\(bits)) exceeds 128"
        case .intBitsExceedSize(let bits, let size):
            "bit offset plus width (\(bits)) does not fit in \(size) bytes"
        case .invalidIntEncoding(let encoding):
            "INT encoding \(encoding) is not none, SIGNED (1), CHAR (2) or BOOL (4)"
        case .typeIDOutOfRange(let id):
            "type id \(id) does not exist"
        case .voidNotAllowed(let what):
            "\(what) cannot be void (type id 0)"
        case .invalidReference(let what, let id, let kind):
            "\(what) [\(id)] is a \(kind), which is not allowed here"
        case .invalidLinkage(let linkage):
            "linkage \(linkage) is not static (0), global (1) or extern (2)"
        case .memberOffsetDecreasing(let offset, let previous):
            "bit offset \(offset) is smaller than the previous member's (\(previous))"
        case .unionMemberOffsetNotZero(let offset):
            "union member at bit offset \(offset) (must be 0)"
        case .memberOffsetBeyondStruct(let offset, let size):
            "bit offset \(offset) is past the end of the \(size)-byte struct"
        case .memberExceedsStruct(let offset, let bits, let size):
            "\(bits) bits at bit offset \(offset) reach past the end of the \(size)-byte struct"
        case .memberNotByteAligned(let offset):
            "bit offset \(offset) is not on a byte boundary"
        case .memberMisaligned(let offset, let alignment):
            "bit offset \(offset) is not aligned to \(alignment) bytes"
        case .invalidBitfieldSize(let size):
            "bitfield size \(size) is invalid for the member's type"
        case .bitfieldBaseNotRegularInt:
            "with kind_flag set, a member's INT must be a plain 8/16/32/64/128-bit integer"
        case .memberTooWide(let bits):
            "reading the member needs \(bits) bits, more than 128"
        case .arraySizeOverflow:
            "element count times element size overflows 32 bits"
        case .arrayOfIrregularInt:
            "array elements are an INT with a bit offset or a width that is not whole bytes"
        case .invalidArrayIndexType(let id):
            "index type [\(id)] is not a plain integer"
        case .invalidParameter(let index, let detail):
            "parameter #\(index + 1): \(detail)"
        case .invalidReturnType(let id):
            "return type [\(id)] has no size"
        case .invalidSectionEntry(let offset, let size, let sectionSize):
            "entry (offset \(offset), size \(size)) is out of order or outside the \(sectionSize)-byte section"
        case .sectionEntriesExceedSize(let total, let sectionSize):
            "entries total \(total) bytes, more than the \(sectionSize)-byte section"
        case .sectionEntryTooSmall(let size, let typeSize):
            "entry size \(size) is smaller than its variable's type (\(typeSize) bytes)"
        case .invalidComponentIndex(let index):
            "component index \(index) does not exist in the tagged type"
        case .loopDetected:
            "loop detected: the type refers back to itself without a pointer in between"
        case .resolveDepthExceeded:
            "more than 32 nested references to resolve"
        case .typeTagAfterModifier:
            "a TYPE_TAG follows a const/volatile/restrict/typedef; type tags must come first in a chain"
        case .modifierChainTooLong:
            "a chain of more than 32 modifiers, or a circular one"
        case .unsizedType(let id):
            "type [\(id)] has no size (void, FWD, FUNC or FUNC_PROTO) but a size is needed"
        case .invalidResolveState:
            "the type does not resolve to a consistent size"
        case .missingRecordSize:
            "no record size"
        case .invalidRecordSize(let size, let minimum):
            "record size \(size) is invalid (at least \(minimum), a multiple of 4)"
        case .noRecords:
            "a record size but no records"
        case .truncatedSectionHeader(let offset):
            "section header at offset \(offset) does not fit"
        case .zeroRecords(let section):
            "section '\(section)' declares 0 records"
        case .recordsBeyondEnd(let section, let count):
            "the \(count) records of section '\(section)' run past the end"
        case .stringOffsetOutOfRange(let what, let offset):
            "\(what) offset \(offset) is outside the BTF string section"
        case .emptySectionName:
            "the ELF section name is empty"
        case .unalignedInstructionOffset(let offset):
            "instruction byte offset \(offset) is not a multiple of 8"
        case .functionOffsetsNotIncreasing(let offset, let previous):
            "instruction offset \(offset) does not follow the previous function's (\(previous))"
        case .invalidRelocationKind(let kind):
            "CO-RE relocation kind \(kind) is unknown (valid: 0-12)"
        case .invalidAccessString(let text):
            "access string '\(text)' is not colon-separated decimal numbers"
        }
    }
}
