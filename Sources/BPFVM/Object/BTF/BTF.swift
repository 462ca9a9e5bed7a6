import Synchronization

/// Type information of a BPF object (`.BTF` section), parsed and validated with the kernel's
/// checks (`btf_parse_hdr`, `btf_check_all_metas`, `btf_check_all_types`, `btf_check_type_tags`).
///
/// Every type id a type refers to exists, every name offset is inside the string section, and
/// no type refers back to itself except through a pointer, so the queries below always end.
/// Object files are accepted as clang writes them, before libbpf's fix-ups: DATASEC sizes may be
/// 0, and extern VARs and FUNCs (`__ksym`, `__kconfig`) are allowed.
///
/// Types are read from the bytes when asked for (see ``types``): a BTF holds its bytes and four
/// bytes per type, so that a kernel's (5 MB, over 100,000 types) is cheap to check and to print.
public struct BTF: Sendable {
    /// The header as stored.
    public let header: BTFHeader
    let records: BTFRecords
    /// The first type of each name, built when a lookup by name first needs it.
    private let nameIndex: BTFNameIndex
    /// The same for this parsed BTF and its copies, different for every other parse.
    package var identity: ObjectIdentifier { ObjectIdentifier(nameIndex) }

    var strings: BTFStringTable { records.strings }

    /// Parses and validates `bytes`, the contents of a `.BTF` section (or a raw BTF file).
    public init(bytes: [UInt8]) throws(BTFError) {
        let header = try BTFHeader(bytes: bytes)
        let base = header.headerLength
        let stringStart = base + header.stringOffset
        guard stringStart + header.stringLength == bytes.count else { throw BTFError(.stringSection, .stringSectionNotAtEnd) }
        guard header.stringLength > 0 else { throw BTFError(.stringSection, .emptyStringSection) }
        guard header.stringLength - 1 <= Int(BTFStringTable.maximumOffset) else {
            throw BTFError(.stringSection, .stringSectionTooLarge(length: header.stringLength))
        }
        guard bytes[bytes.count - 1] == 0 else { throw BTFError(.stringSection, .stringSectionMissingTrailingNUL) }
        guard bytes[stringStart] == 0 else { throw BTFError(.stringSection, .stringSectionMissingLeadingNUL) }
        guard header.typeOffset % 4 == 0 else {
            throw BTFError(.typeSection, .unalignedSection(section: "type", offset: header.typeOffset))
        }
        guard header.typeLength > 0 else { throw BTFError(.typeSection, .noTypes) }

        let reader = BTFByteReader(bytes: bytes, isBigEndian: header.isBigEndian)
        let strings = BTFStringTable(reader: reader, start: stringStart, length: header.stringLength)
        let decoder = BTFTypeDecoder(reader: reader, names: BTFNameDecoder(table: strings))
        let (offsets, codes) = try decoder.checkAll(start: base + header.typeOffset, length: header.typeLength)
        let records = BTFRecords(strings: strings, offsets: offsets)
        try Self.checkReferences(records, codes: codes)
        var resolver = BTFResolver(records: records, codes: codes)
        try resolver.checkAllTypes()
        self.header = header
        self.records = records
        self.nameIndex = BTFNameIndex()
    }

    /// Every referenced type id must exist (the kernel finds this while resolving; checking it
    /// first lets the resolver index without failing).
    static func checkReferences(_ records: BTFRecords, codes: [BTFKind.Code]) throws(BTFError) {
        let count = UInt32(records.count)
        func check(_ id: UInt32, _ location: BTFError.Location) throws(BTFError) {
            guard id < count else { throw BTFError(location, .typeIDOutOfRange(id)) }
        }
        for index in 1..<records.count {
            let id = UInt32(index)
            let here = BTFError.Location.type(id)
            switch codes[index] {
            case .pointer, .typedef, .volatile, .const, .restrict, .typeTag, .variable, .function, .declTag:
                try check(records.sizeOrType(id), here)
            case .array:
                try check(records.dataWord(id, 0), here)
                try check(records.dataWord(id, 1), here)
            case .structure, .union:
                for index in 0..<records.vlen(id) {
                    try check(records.member(id, index).type, .component(type: id, index: index))
                }
            case .functionProto:
                try check(records.sizeOrType(id), here)
                for index in 0..<records.vlen(id) {
                    try check(records.parameter(id, index).type, .component(type: id, index: index))
                }
            case .dataSection:
                for index in 0..<records.vlen(id) {
                    try check(records.entry(id, index).type, .component(type: id, index: index))
                }
            default:
                break
            }
        }
    }

    // MARK: Lookups

    /// The BTF data as given (header, types and strings).
    public var bytes: [UInt8] { strings.bytes }

    /// All types, void first; a type's id is its index. Each is decoded when accessed.
    public var types: BTFTypes { BTFTypes(records: records) }

    /// The number of types, void included.
    public var count: Int { records.count }

    /// The type with id `id`, or nil if there is none.
    public func type(_ id: UInt32) -> BTFType? {
        Int(id) < records.count ? records.type(id) : nil
    }

    /// The kind of type `id` without decoding the rest of it (void for 0), or nil if there is none.
    public func kindCode(of id: UInt32) -> BTFKind.Code? {
        Int(id) < records.count ? records.code(id) : nil
    }

    /// The size a type of a sized kind (INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT) stores, without
    /// decoding the type; nil for other kinds and ids that do not exist.
    public func storedSize(of id: UInt32) -> Int? {
        switch kindCode(of: id) {
        case .int?, .structure?, .union?, .enumeration?, .enumeration64?, .dataSection?, .float?:
            Int(records.sizeOrType(id))
        default:
            nil
        }
    }

    /// The string at `offset` of the string section, or nil if out of range.
    public func string(at offset: UInt32) -> String? {
        strings.string(at: offset)
    }

    /// Calls `body` with the string section: every name offset is an index into it, and every
    /// name ends at a NUL before the section's end.
    public func withStringSection<R, E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        let (start, length) = (strings.start, strings.length)
        let result = strings.bytes.withUnsafeBufferPointer { all in
            Result { () throws(E) -> R in try body(UnsafeBufferPointer(rebasing: all[start..<start + length])) }
        }
        return try result.get()
    }

    /// The first type (lowest id) named `name`, of any kind.
    public func firstType(named name: String) -> BTFType? {
        nameIndex.firstID(named: name, in: records).map { records.type($0) }
    }

    /// The first type named `name` of kind `kind`.
    public func firstType(named name: String, kind: BTFKind.Code) -> BTFType? {
        if let first = firstType(named: name), first.kind.code == kind { return first }
        guard firstType(named: name) != nil else { return nil }
        return types.first { $0.kind.code == kind && $0.name == name }
    }

    /// All types named `name`, in id order.
    public func types(named name: String) -> [BTFType] {
        guard firstType(named: name) != nil else { return [] }
        return types.filter { $0.name == name }
    }

    /// The DATASEC of the ELF section `name`.
    public func dataSection(named name: String) -> BTFType? {
        firstType(named: name, kind: .dataSection)
    }

    // MARK: Following references

    /// The id reached from `id` by skipping typedefs, const, volatile, restrict and type tags.
    public func skippingModifiersAndTypedefs(_ id: UInt32) -> UInt32 {
        var current = id
        for _ in 0..<types.count {
            guard let type = type(current), type.kind.isModifier, let next = type.kind.referencedType else { break }
            current = next
        }
        return current
    }

    /// The id reached from `id` by skipping const, volatile, restrict and type tags (not typedefs).
    public func skippingQualifiers(_ id: UInt32) -> UInt32 {
        var current = id
        for _ in 0..<types.count {
            switch type(current)?.kind {
            case .const(let next)?, .volatile(let next)?, .restrict(let next)?, .typeTag(let next)?:
                current = next
            default:
                return current
            }
        }
        return current
    }

    /// The size in bytes of a value of type `id`, following typedefs, qualifiers, type tags and
    /// variables; arrays multiply; pointers are 8 bytes. Nil for void, FWD, FUNC and FUNC_PROTO.
    public func resolvedSize(of id: UInt32) -> Int? {
        var current = id
        var multiplier = 1
        for _ in 0...types.count {
            guard let type = type(current) else { return nil }
            switch type.kind {
            case .int(let size, _, _, _), .structure(let size, _), .union(let size, _), .enumeration(let size, _, _),
                 .enumeration64(let size, _, _), .float(let size), .dataSection(let size, _):
                return size.multipliedReportingOverflow(by: multiplier).overflow ? nil : size * multiplier
            case .pointer:
                return 8 * multiplier
            case .array(let element, _, let count):
                let (product, overflow) = multiplier.multipliedReportingOverflow(by: count)
                guard !overflow else { return nil }
                multiplier = product
                current = element
            case .typedef(let next), .volatile(let next), .const(let next), .restrict(let next), .typeTag(let next),
                 .variable(let next, _):
                current = next
            case .void, .forward, .function, .functionProto, .declTag:
                return nil
            }
        }
        return nil
    }

    /// The members of the struct or union `id` stands for (after modifiers and typedefs); empty
    /// for other kinds.
    public func members(of id: UInt32) -> BTFComponents<BTFMember> {
        switch type(skippingModifiersAndTypedefs(id))?.kind {
        case .structure(_, let members)?, .union(_, let members)?: members
        default: []
        }
    }

    /// The member `name` of the struct or union `id` stands for, looking inside anonymous struct
    /// and union members too, with its bit offset from the start of `id`.
    public func member(named name: String, in id: UInt32) -> (member: BTFMember, bitOffset: Int)? {
        guard !name.isEmpty else { return nil }
        // Breadth over anonymous members without recursion: (aggregate, offset of it in `id`).
        var pending: [(UInt32, Int)] = [(id, 0)]
        var visited = 0
        while !pending.isEmpty && visited < types.count {
            let (aggregate, base) = pending.removeFirst()
            visited += 1
            let members = members(of: aggregate)
            if let found = members.first(where: { $0.name == name }) { return (found, base + found.bitOffset) }
            for member in members where member.name.isEmpty {
                pending.append((member.type, base + member.bitOffset))
            }
        }
        return nil
    }

    /// The FUNC_PROTO of the FUNC `id` (or `id` itself if it is a FUNC_PROTO).
    public func functionProto(of id: UInt32) -> (returnType: UInt32, parameters: BTFComponents<BTFParameter>)? {
        switch type(id)?.kind {
        case .function(let proto, _)?: functionProto(ofProto: proto)
        case .functionProto(let returnType, let parameters)?: (returnType, parameters)
        default: nil
        }
    }

    private func functionProto(ofProto id: UInt32) -> (returnType: UInt32, parameters: BTFComponents<BTFParameter>)? {
        guard case .functionProto(let returnType, let parameters)? = type(id)?.kind else { return nil }
        return (returnType, parameters)
    }
}

/// The types of a BTF in id order, void first, each decoded from its record when accessed.
public struct BTFTypes: RandomAccessCollection, Sendable {
    let records: BTFRecords

    public var startIndex: Int { 0 }
    public var endIndex: Int { records.count }

    public subscript(position: Int) -> BTFType {
        // As an array's subscript, a position out of range is a programming error.
        precondition(position >= 0 && position < records.count, "BTF type index out of range")
        return records.type(UInt32(position))
    }
}

/// The first type id of each name of one BTF, built on first use (CO-RE and map lookups by name):
/// checking and printing a BTF never pays for it.
final class BTFNameIndex: Sendable {
    private let index = Mutex<[String: UInt32]?>(nil)

    func firstID(named name: String, in records: BTFRecords) -> UInt32? {
        index.withLock { index in
            if index == nil {
                var built: [String: UInt32] = [:]
                for id in (1..<UInt32(records.count)).reversed() {
                    let nameOffset = records.header(id).nameOffset
                    if nameOffset != 0, let text = records.strings.string(at: nameOffset), !text.isEmpty { built[text] = id }
                }
                index = built
            }
            return index?[name]
        }
    }
}
