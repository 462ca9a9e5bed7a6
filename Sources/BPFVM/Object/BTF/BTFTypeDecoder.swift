/// Walks the type section record by record and applies the kernel's per-record checks
/// (`btf_check_meta` and each kind's `check_meta`): sizes of the kind-specific data, unused bits
/// and fields, names, `vlen` and `kind_flag` rules, and type ids below the maximum. It decodes
/// nothing it does not check: what it yields is where each record is (``BTFRecords`` reads them).
///
/// Object files are accepted as clang writes them, which the kernel would reject before libbpf's
/// fix-ups: a DATASEC may have size 0 (then its entries' offsets are not checked), extern VARs
/// and FUNCs are allowed, and DECL_TAG / TYPE_TAG may set `kind_flag` (newer attribute tags).
final class BTFTypeDecoder {
    let reader: BTFByteReader
    let names: BTFNameDecoder

    init(reader: BTFByteReader, names: BTFNameDecoder) {
        self.reader = reader
        self.names = names
    }

    /// `BTF_MAX_TYPE`: the largest type id.
    static let maximumTypeID: UInt32 = 0xf_ffff
    /// Bits of `info` that some kind uses (`BTF_INFO_MASK`).
    static let infoMask: UInt32 = 0x9f00_ffff

    /// Checks every record of the type section `[start, start + length)`, types 1, 2, ...; returns
    /// where each record starts and each one's kind (index 0, void, holds 0 and void).
    func checkAll(start: Int, length: Int) throws(BTFError) -> (offsets: [UInt32], codes: [BTFKind.Code]) {
        let result = reader.bytes.withUnsafeBytes { bytes in
            Result { () throws(BTFError) in
                try checkAll(start: start, length: length,
                             reader: BTFBorrowedReader(bytes: bytes, isBigEndian: reader.isBigEndian))
            }
        }
        return try result.get()
    }

    /// `checkAll` reading through `reader`, the data borrowed for the whole pass.
    private func checkAll(start: Int, length: Int, reader: BTFBorrowedReader) throws(BTFError)
        -> (offsets: [UInt32], codes: [BTFKind.Code])
    {
        var offsets: [UInt32] = [0]
        var codes: [BTFKind.Code] = [.void]
        // Every record takes at least 12 bytes: reserving for that many never reallocates, and only the
        // pages actually written are touched.
        offsets.reserveCapacity(length / 12 + 1)
        codes.reserveCapacity(length / 12 + 1)
        var cursor = start
        let end = start + length
        while cursor < end {
            let id = UInt32(offsets.count)
            guard id <= Self.maximumTypeID else { throw BTFError(.typeSection, .tooManyTypes) }
            offsets.append(UInt32(cursor))  // The whole BTF is at most 4 GiB (its header's offsets are 32-bit).
            let (size, code) = try check(id: id, at: cursor, available: end - cursor, reader: reader)
            codes.append(code)
            cursor += size
        }
        return (offsets, codes)
    }

    /// Checks the record of type `id` at `offset`; returns its size in bytes and its kind.
    func check(id: UInt32, at offset: Int, available: Int, reader: BTFBorrowedReader) throws(BTFError)
        -> (size: Int, code: BTFKind.Code)
    {
        guard available >= 12 else { throw BTFError(.type(id), .truncatedType(needed: 12, available: available)) }
        let header = BTFTypeHeader(nameOffset: reader.u32(offset), info: reader.u32(offset + 4),
                                   sizeOrType: reader.u32(offset + 8))
        guard header.info & ~Self.infoMask == 0 else { throw BTFError(.type(id), .invalidInfo(header.info)) }
        guard let code = BTFKind.Code(rawValue: header.kindNumber), code != .void else {
            throw BTFError(.type(id), .invalidKind(header.kindNumber))
        }
        guard names.isValid(header.nameOffset) else {
            throw BTFError(.type(id), .nameOffsetOutOfRange(header.nameOffset))
        }
        // Every name is read once here, and charged, even where no check looks at it: printing it later
        // must stay within the budget too.
        let name = try names.scan(header.nameOffset)
        var record = Record(id: id, header: header, code: code, data: offset + 12, available: available - 12,
                            name: name, reader: reader, names: names)
        try record.checkKind()
        return (12 + record.dataSize, code)
    }

    /// One record being checked.
    struct Record {
        let id: UInt32
        let header: BTFTypeHeader
        let code: BTFKind.Code
        /// Where the kind-specific data starts.
        let data: Int
        /// Bytes left in the type section after the common header.
        let available: Int
        /// Whether the record's name is an identifier, and whether it is empty.
        let name: (isIdentifier: Bool, isEmpty: Bool)
        /// The data, borrowed for the pass, and its names, which outlive the record (no reference counting per
        /// record or component).
        let reader: BTFBorrowedReader
        unowned(unsafe) let names: BTFNameDecoder
        /// Bytes of kind-specific data, set by `checkKind`.
        var dataSize = 0

        var vlen: Int { header.vlen }
        var sizeField: UInt32 { header.sizeOrType }

        func fail(_ reason: BTFError.Reason) -> BTFError { BTFError(.type(id), reason) }
        func fail(component: Int, _ reason: BTFError.Reason) -> BTFError {
            BTFError(.component(type: id, index: component), reason)
        }

        mutating func need(_ bytes: Int) throws(BTFError) {
            guard available >= bytes else { throw fail(.truncatedType(needed: 12 + bytes, available: 12 + available)) }
            dataSize = bytes
        }

        func requireZeroVlen() throws(BTFError) {
            guard vlen == 0 else { throw fail(.nonZeroVlen(vlen)) }
        }

        func requireNoKindFlag() throws(BTFError) {
            guard !header.kindFlag else { throw fail(.unexpectedKindFlag) }
        }

        func requireNoName() throws(BTFError) {
            guard header.nameOffset == 0 else { throw fail(.nameNotAllowed(names.text(header.nameOffset))) }
        }

        /// A name that is present and a valid identifier.
        func requireIdentifier() throws(BTFError) {
            guard header.nameOffset != 0 else { throw fail(.missingName) }
            try requireIdentifierIfNamed()
        }

        /// Either anonymous or a valid identifier.
        func requireIdentifierIfNamed() throws(BTFError) {
            guard header.nameOffset != 0 else { return }
            guard name.isIdentifier else { throw fail(.invalidName(names.text(header.nameOffset))) }
        }

        /// A non-empty string (tag values).
        func requireNonEmptyName() throws(BTFError) {
            guard !name.isEmpty else { throw fail(.missingName) }
        }

        func requireTypeID(_ value: UInt32, what: String, allowVoid: Bool, component: Int? = nil) throws(BTFError) {
            let reason: BTFError.Reason
            if value == 0 && !allowVoid {
                reason = .voidNotAllowed(what: what)
            } else if value > BTFTypeDecoder.maximumTypeID {
                reason = .typeIDOutOfRange(value)
            } else {
                return
            }
            if let component { throw fail(component: component, reason) }
            throw fail(reason)
        }

        /// Whether a member's, enumerator's or parameter's name is an identifier (its offset must be valid).
        func componentNameIsIdentifier(_ offset: UInt32, index: Int) throws(BTFError) -> Bool {
            guard names.isValid(offset) else { throw fail(component: index, .nameOffsetOutOfRange(offset)) }
            return try names.scan(offset).isIdentifier
        }

        mutating func checkKind() throws(BTFError) {
            switch code {
            case .void: throw fail(.invalidKind(0))
            case .int: try checkInt()
            case .pointer, .typedef, .volatile, .const, .restrict, .typeTag: try checkReference()
            case .array: try checkArray()
            case .structure, .union: try checkAggregate()
            case .enumeration, .enumeration64: try checkEnum()
            case .forward: try checkForward()
            case .function: try checkFunction()
            case .functionProto: try checkFunctionProto()
            case .variable: try checkVariable()
            case .dataSection: try checkDataSection()
            case .float: try checkFloat()
            case .declTag: try checkDeclTag()
            }
        }

        /// `btf_int_check_meta`, plus bits 8-15 of the INT word (unused, clang writes 0) must be 0.
        mutating func checkInt() throws(BTFError) {
            try need(4)
            try requireZeroVlen()
            try requireNoKindFlag()
            let word = reader.u32(data)
            guard word & ~0x0f_ff00ff == 0 else { throw fail(.invalidIntData(word)) }
            let bits = Int(word & 0xff), offset = Int((word >> 16) & 0xff), encodingBits = UInt8(word >> 24)
            guard bits + offset <= 128 else { throw fail(.intBitsExceed128(bits + offset)) }
            guard (bits + offset + 7) / 8 <= Int(sizeField) else {
                throw fail(.intBitsExceedSize(bits: bits + offset, size: Int(sizeField)))
            }
            guard BTFIntEncoding(rawValue: encodingBits) != nil else { throw fail(.invalidIntEncoding(encodingBits)) }
        }

        /// `btf_ref_type_check_meta`: PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG.
        mutating func checkReference() throws(BTFError) {
            try requireZeroVlen()
            if code != .typeTag { try requireNoKindFlag() }
            try requireTypeID(sizeField, what: "referenced type", allowVoid: true)
            switch code {
            case .typedef: try requireIdentifier()
            case .typeTag: try requireNonEmptyName()
            default: try requireNoName()
            }
        }

        /// `btf_array_check_meta`.
        mutating func checkArray() throws(BTFError) {
            try need(12)
            try requireNoName()
            try requireZeroVlen()
            try requireNoKindFlag()
            guard sizeField == 0 else { throw fail(.nonZeroSize(sizeField)) }
            try requireTypeID(reader.u32(data), what: "array element type", allowVoid: false)
            try requireTypeID(reader.u32(data + 4), what: "array index type", allowVoid: false)
        }

        /// `btf_struct_check_meta`.
        mutating func checkAggregate() throws(BTFError) {
            try need(vlen * 12)
            try requireIdentifierIfNamed()
            let isUnion = code == .union
            let structSize = Int(sizeField)
            var lastOffset = 0
            for index in 0..<vlen {
                let member = reader.member(data: data, index: index, kindFlag: header.kindFlag)
                let nameOffset = member.nameOffset, bitOffset = member.bitOffset
                guard try componentNameIsIdentifier(nameOffset, index: index) || nameOffset == 0 else {
                    throw fail(component: index, .invalidName(names.text(nameOffset)))
                }
                try requireTypeID(member.type, what: "member type", allowVoid: false, component: index)
                if isUnion && bitOffset != 0 { throw fail(component: index, .unionMemberOffsetNotZero(bitOffset: bitOffset)) }
                if lastOffset > bitOffset {
                    throw fail(component: index, .memberOffsetDecreasing(bitOffset: bitOffset, previous: lastOffset))
                }
                if (bitOffset + 7) / 8 > structSize {
                    throw fail(component: index, .memberOffsetBeyondStruct(bitOffset: bitOffset, structSize: structSize))
                }
                lastOffset = bitOffset
            }
        }

        /// `btf_enum_check_meta` and `btf_enum64_check_meta`.
        mutating func checkEnum() throws(BTFError) {
            let is64 = code == .enumeration64
            try need(vlen * (is64 ? 12 : 8))
            let size = Int(sizeField)
            guard size <= 8, size > 0, size & (size - 1) == 0 else { throw fail(.invalidSize(size, allowed: "1, 2, 4 or 8")) }
            try requireIdentifierIfNamed()
            for index in 0..<vlen {
                let nameOffset = reader.enumerator(data: data, index: index, is64: is64, isSigned: false).nameOffset
                let isIdentifier = try componentNameIsIdentifier(nameOffset, index: index)
                guard nameOffset != 0 else { throw fail(component: index, .missingName) }
                guard isIdentifier else { throw fail(component: index, .invalidName(names.text(nameOffset))) }
            }
        }

        /// `btf_fwd_check_meta`.
        mutating func checkForward() throws(BTFError) {
            try requireZeroVlen()
            guard sizeField == 0 else { throw fail(.nonZeroTypeField(sizeField)) }
            try requireIdentifier()
        }

        /// `btf_func_check_meta`, accepting extern linkage.
        mutating func checkFunction() throws(BTFError) {
            try requireIdentifier()
            guard BTFFunctionLinkage(rawValue: UInt16(vlen)) != nil else { throw fail(.invalidLinkage(UInt32(vlen))) }
            try requireNoKindFlag()
            try requireTypeID(sizeField, what: "FUNC prototype", allowVoid: false)
        }

        /// `btf_func_proto_check_meta`; parameters are checked once all types are known.
        mutating func checkFunctionProto() throws(BTFError) {
            try need(vlen * 8)
            try requireNoName()
            try requireNoKindFlag()
            try requireTypeID(sizeField, what: "return type", allowVoid: true)
            for index in 0..<vlen {
                let parameter = reader.parameter(data: data, index: index)
                let nameOffset = parameter.nameOffset
                let isIdentifier = try componentNameIsIdentifier(nameOffset, index: index)
                try requireTypeID(parameter.type, what: "parameter type", allowVoid: true, component: index)
                // The kernel checks this in btf_func_proto_check, once all types are known.
                if nameOffset != 0 && !isIdentifier {
                    throw fail(.invalidParameter(index: index, detail: "'\(names.text(nameOffset))' is not a valid identifier"))
                }
            }
        }

        /// `btf_var_check_meta`, accepting extern linkage.
        mutating func checkVariable() throws(BTFError) {
            try need(4)
            try requireZeroVlen()
            try requireNoKindFlag()
            try requireIdentifier()
            let raw = reader.u32(data)
            guard let linkage = BTFVariableLinkage(rawValue: raw) else { throw fail(.invalidLinkage(raw)) }
            // libbpf's typeless `__ksym` externs (`extern const void sym __ksym;` may lose its const) are VARs of
            // void, which libbpf turns into ints before loading; only an extern may be one.
            try requireTypeID(sizeField, what: "variable type", allowVoid: linkage == .external)
        }

        /// `btf_datasec_check_meta`; a size of 0 (not yet fixed up) skips the offset checks.
        mutating func checkDataSection() throws(BTFError) {
            try need(vlen * 12)
            try requireNoKindFlag()
            try requireIdentifier()
            let sectionSize = Int(sizeField)
            var lastEnd = 0, sum = 0
            for index in 0..<vlen {
                let entry = reader.entry(data: data, index: index)
                let offset = entry.offset, size = entry.size
                try requireTypeID(entry.type, what: "DATASEC entry", allowVoid: false, component: index)
                if sectionSize > 0 {
                    guard offset >= lastEnd, offset < sectionSize, size > 0, size <= sectionSize,
                          offset + size <= sectionSize
                    else {
                        throw fail(component: index, .invalidSectionEntry(offset: offset, size: size, sectionSize: sectionSize))
                    }
                    lastEnd = offset + size
                    sum += size
                }
            }
            if sectionSize > 0 && sum > sectionSize {
                throw fail(.sectionEntriesExceedSize(total: sum, sectionSize: sectionSize))
            }
        }

        /// `btf_float_check_meta`.
        mutating func checkFloat() throws(BTFError) {
            try requireZeroVlen()
            try requireNoKindFlag()
            let size = Int(sizeField)
            guard [2, 4, 8, 12, 16].contains(size) else { throw fail(.invalidSize(size, allowed: "2, 4, 8, 12 or 16")) }
        }

        /// `btf_decl_tag_check_meta`, allowing `kind_flag` (attribute tags).
        mutating func checkDeclTag() throws(BTFError) {
            try need(4)
            try requireNonEmptyName()
            try requireZeroVlen()
            try requireTypeID(sizeField, what: "tagged type", allowVoid: false)
            let index = Int32(bitPattern: reader.u32(data))
            guard index >= -1 else { throw fail(.invalidComponentIndex(Int(index))) }
        }
    }
}
