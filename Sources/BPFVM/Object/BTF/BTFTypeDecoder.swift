/// Decodes the type section record by record and applies the kernel's per-record checks
/// (`btf_check_meta` and each kind's `check_meta`): sizes of the kind-specific data, unused bits
/// and fields, names, `vlen` and `kind_flag` rules, and type ids below the maximum.
///
/// Object files are accepted as clang writes them, which the kernel would reject before libbpf's
/// fix-ups: a DATASEC may have size 0 (then its entries' offsets are not checked), extern VARs
/// and FUNCs are allowed, and DECL_TAG / TYPE_TAG may set `kind_flag` (newer attribute tags).
struct BTFTypeDecoder {
    let reader: BTFByteReader
    let names: BTFNameDecoder

    /// `BTF_MAX_TYPE`: the largest type id.
    static let maximumTypeID: UInt32 = 0xf_ffff
    /// Bits of `info` that some kind uses (`BTF_INFO_MASK`).
    static let infoMask: UInt32 = 0x9f00_ffff

    /// Decodes every record of the type section `[start, start + length)` into types 1, 2, ...
    func decodeAll(start: Int, length: Int) throws(BTFError) -> [BTFType] {
        var types: [BTFType] = [.void]
        var cursor = start
        let end = start + length
        while cursor < end {
            let id = UInt32(types.count)
            guard id <= Self.maximumTypeID else { throw BTFError(.typeSection, .tooManyTypes) }
            let (type, size) = try decode(id: id, at: cursor, available: end - cursor)
            types.append(type)
            cursor += size
        }
        return types
    }

    /// Decodes the record of type `id` at `offset`; returns it with its size in bytes.
    func decode(id: UInt32, at offset: Int, available: Int) throws(BTFError) -> (BTFType, Int) {
        guard available >= 12 else { throw BTFError(.type(id), .truncatedType(needed: 12, available: available)) }
        let header = BTFTypeHeader(nameOffset: reader.u32(offset), info: reader.u32(offset + 4),
                                   sizeOrType: reader.u32(offset + 8))
        guard header.info & ~Self.infoMask == 0 else { throw BTFError(.type(id), .invalidInfo(header.info)) }
        guard let code = BTFKind.Code(rawValue: header.kindNumber), code != .void else {
            throw BTFError(.type(id), .invalidKind(header.kindNumber))
        }
        guard names.table.isValid(header.nameOffset) else {
            throw BTFError(.type(id), .nameOffsetOutOfRange(header.nameOffset))
        }
        var record = Record(id: id, header: header, code: code, data: offset + 12, available: available - 12,
                            decoder: self)
        let kind = try record.decodeKind()
        let name = try names.lookup(header.nameOffset).text
        return (BTFType(id: id, name: name, kind: kind, header: header), 12 + record.dataSize)
    }

    /// One record being decoded.
    struct Record {
        let id: UInt32
        let header: BTFTypeHeader
        let code: BTFKind.Code
        /// Where the kind-specific data starts.
        let data: Int
        /// Bytes left in the type section after the common header.
        let available: Int
        let decoder: BTFTypeDecoder
        /// Bytes of kind-specific data, set by `decodeKind`.
        var dataSize = 0

        var reader: BTFByteReader { decoder.reader }
        var names: BTFNameDecoder { decoder.names }
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
            guard header.nameOffset == 0 else { throw fail(.nameNotAllowed(try names.lookup(header.nameOffset).text)) }
        }

        /// A name that is present and a valid identifier.
        func requireIdentifier() throws(BTFError) {
            guard header.nameOffset != 0 else { throw fail(.missingName) }
            try requireIdentifierIfNamed()
        }

        /// Either anonymous or a valid identifier.
        func requireIdentifierIfNamed() throws(BTFError) {
            guard header.nameOffset != 0 else { return }
            let name = try names.lookup(header.nameOffset)
            guard name.isIdentifier else { throw fail(.invalidName(name.text)) }
        }

        /// A non-empty string (tag values).
        func requireNonEmptyName() throws(BTFError) {
            guard try !names.lookup(header.nameOffset).isEmpty else { throw fail(.missingName) }
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

        /// A member's, enumerator's or parameter's name: its text and whether it is an identifier.
        func componentName(_ offset: UInt32, index: Int) throws(BTFError) -> (text: String, isIdentifier: Bool) {
            guard names.table.isValid(offset) else { throw fail(component: index, .nameOffsetOutOfRange(offset)) }
            let name = try names.lookup(offset)
            return (name.text, name.isIdentifier)
        }

        mutating func decodeKind() throws(BTFError) -> BTFKind {
            switch code {
            case .void: throw fail(.invalidKind(0))
            case .int: return try decodeInt()
            case .pointer, .typedef, .volatile, .const, .restrict, .typeTag: return try decodeReference()
            case .array: return try decodeArray()
            case .structure, .union: return try decodeAggregate()
            case .enumeration, .enumeration64: return try decodeEnum()
            case .forward: return try decodeForward()
            case .function: return try decodeFunction()
            case .functionProto: return try decodeFunctionProto()
            case .variable: return try decodeVariable()
            case .dataSection: return try decodeDataSection()
            case .float: return try decodeFloat()
            case .declTag: return try decodeDeclTag()
            }
        }

        /// `btf_int_check_meta`, plus bits 8-15 of the INT word (unused, clang writes 0) must be 0.
        mutating func decodeInt() throws(BTFError) -> BTFKind {
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
            guard let encoding = BTFIntEncoding(rawValue: encodingBits) else { throw fail(.invalidIntEncoding(encodingBits)) }
            return .int(size: Int(sizeField), encoding: encoding, offset: offset, bits: bits)
        }

        /// `btf_ref_type_check_meta`: PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG.
        mutating func decodeReference() throws(BTFError) -> BTFKind {
            try requireZeroVlen()
            if code != .typeTag { try requireNoKindFlag() }
            try requireTypeID(sizeField, what: "referenced type", allowVoid: true)
            switch code {
            case .typedef: try requireIdentifier()
            case .typeTag: try requireNonEmptyName()
            default: try requireNoName()
            }
            switch code {
            case .pointer: return .pointer(to: sizeField)
            case .typedef: return .typedef(sizeField)
            case .volatile: return .volatile(sizeField)
            case .const: return .const(sizeField)
            case .restrict: return .restrict(sizeField)
            default: return .typeTag(sizeField)
            }
        }

        /// `btf_array_check_meta`.
        mutating func decodeArray() throws(BTFError) -> BTFKind {
            try need(12)
            try requireNoName()
            try requireZeroVlen()
            try requireNoKindFlag()
            guard sizeField == 0 else { throw fail(.nonZeroSize(sizeField)) }
            let element = reader.u32(data), index = reader.u32(data + 4), count = reader.u32(data + 8)
            try requireTypeID(element, what: "array element type", allowVoid: false)
            try requireTypeID(index, what: "array index type", allowVoid: false)
            return .array(element: element, index: index, count: Int(count))
        }

        /// `btf_struct_check_meta`.
        mutating func decodeAggregate() throws(BTFError) -> BTFKind {
            try need(vlen * 12)
            try requireIdentifierIfNamed()
            let isUnion = code == .union
            let structSize = Int(sizeField)
            var members: [BTFMember] = []
            members.reserveCapacity(vlen)
            var lastOffset = 0
            for index in 0..<vlen {
                let base = data + index * 12
                let nameOffset = reader.u32(base), type = reader.u32(base + 4), word = reader.u32(base + 8)
                let name = try componentName(nameOffset, index: index)
                guard nameOffset == 0 || name.isIdentifier else { throw fail(component: index, .invalidName(name.text)) }
                try requireTypeID(type, what: "member type", allowVoid: false, component: index)
                let bitOffset = header.kindFlag ? Int(word & 0xff_ffff) : Int(word)
                let bitfieldSize = header.kindFlag ? Int(word >> 24) : 0
                if isUnion && bitOffset != 0 { throw fail(component: index, .unionMemberOffsetNotZero(bitOffset: bitOffset)) }
                if lastOffset > bitOffset {
                    throw fail(component: index, .memberOffsetDecreasing(bitOffset: bitOffset, previous: lastOffset))
                }
                if (bitOffset + 7) / 8 > structSize {
                    throw fail(component: index, .memberOffsetBeyondStruct(bitOffset: bitOffset, structSize: structSize))
                }
                lastOffset = bitOffset
                members.append(BTFMember(name: name.text, nameOffset: nameOffset, type: type, bitOffset: bitOffset,
                                         bitfieldSize: bitfieldSize))
            }
            return isUnion ? .union(size: structSize, members: members) : .structure(size: structSize, members: members)
        }

        /// `btf_enum_check_meta` and `btf_enum64_check_meta`.
        mutating func decodeEnum() throws(BTFError) -> BTFKind {
            let is64 = code == .enumeration64
            let stride = is64 ? 12 : 8
            try need(vlen * stride)
            let size = Int(sizeField)
            guard size <= 8, size > 0, size & (size - 1) == 0 else { throw fail(.invalidSize(size, allowed: "1, 2, 4 or 8")) }
            try requireIdentifierIfNamed()
            let isSigned = header.kindFlag
            var values: [BTFEnumValue] = []
            values.reserveCapacity(vlen)
            for index in 0..<vlen {
                let base = data + index * stride
                let nameOffset = reader.u32(base)
                let name = try componentName(nameOffset, index: index)
                guard nameOffset != 0 else { throw fail(component: index, .missingName) }
                guard name.isIdentifier else { throw fail(component: index, .invalidName(name.text)) }
                let low = reader.u32(base + 4)
                let value: Int64
                if is64 {
                    value = Int64(bitPattern: UInt64(reader.u32(base + 8)) << 32 | UInt64(low))
                } else {
                    value = isSigned ? Int64(Int32(bitPattern: low)) : Int64(low)
                }
                values.append(BTFEnumValue(name: name.text, nameOffset: nameOffset, value: value))
            }
            return is64 ? .enumeration64(size: size, isSigned: isSigned, values: values)
                : .enumeration(size: size, isSigned: isSigned, values: values)
        }

        /// `btf_fwd_check_meta`.
        mutating func decodeForward() throws(BTFError) -> BTFKind {
            try requireZeroVlen()
            guard sizeField == 0 else { throw fail(.nonZeroTypeField(sizeField)) }
            try requireIdentifier()
            return .forward(isUnion: header.kindFlag)
        }

        /// `btf_func_check_meta`, accepting extern linkage.
        mutating func decodeFunction() throws(BTFError) -> BTFKind {
            try requireIdentifier()
            guard let linkage = BTFFunctionLinkage(rawValue: UInt16(vlen)) else { throw fail(.invalidLinkage(UInt32(vlen))) }
            try requireNoKindFlag()
            try requireTypeID(sizeField, what: "FUNC prototype", allowVoid: false)
            return .function(proto: sizeField, linkage: linkage)
        }

        /// `btf_func_proto_check_meta`; parameters are checked once all types are known.
        mutating func decodeFunctionProto() throws(BTFError) -> BTFKind {
            try need(vlen * 8)
            try requireNoName()
            try requireNoKindFlag()
            try requireTypeID(sizeField, what: "return type", allowVoid: true)
            var parameters: [BTFParameter] = []
            parameters.reserveCapacity(vlen)
            for index in 0..<vlen {
                let nameOffset = reader.u32(data + index * 8), type = reader.u32(data + index * 8 + 4)
                let name = try componentName(nameOffset, index: index)
                try requireTypeID(type, what: "parameter type", allowVoid: true, component: index)
                // The kernel checks this in btf_func_proto_check, once all types are known.
                if nameOffset != 0 && !name.isIdentifier {
                    throw fail(.invalidParameter(index: index, detail: "'\(name.text)' is not a valid identifier"))
                }
                parameters.append(BTFParameter(name: name.text, nameOffset: nameOffset, type: type))
            }
            return .functionProto(returnType: sizeField, parameters: parameters)
        }

        /// `btf_var_check_meta`, accepting extern linkage.
        mutating func decodeVariable() throws(BTFError) -> BTFKind {
            try need(4)
            try requireZeroVlen()
            try requireNoKindFlag()
            try requireIdentifier()
            let raw = reader.u32(data)
            guard let linkage = BTFVariableLinkage(rawValue: raw) else { throw fail(.invalidLinkage(raw)) }
            // libbpf's typeless `__ksym` externs (`extern const void sym __ksym;` may lose its const) are VARs of
            // void, which libbpf turns into ints before loading; only an extern may be one.
            try requireTypeID(sizeField, what: "variable type", allowVoid: linkage == .external)
            return .variable(type: sizeField, linkage: linkage)
        }

        /// `btf_datasec_check_meta`; a size of 0 (not yet fixed up) skips the offset checks.
        mutating func decodeDataSection() throws(BTFError) -> BTFKind {
            try need(vlen * 12)
            try requireNoKindFlag()
            try requireIdentifier()
            let sectionSize = Int(sizeField)
            var entries: [BTFDataSectionVariable] = []
            entries.reserveCapacity(vlen)
            var lastEnd = 0, sum = 0
            for index in 0..<vlen {
                let base = data + index * 12
                let type = reader.u32(base), offset = Int(reader.u32(base + 4)), size = Int(reader.u32(base + 8))
                try requireTypeID(type, what: "DATASEC entry", allowVoid: false, component: index)
                if sectionSize > 0 {
                    guard offset >= lastEnd, offset < sectionSize, size > 0, size <= sectionSize,
                          offset + size <= sectionSize
                    else {
                        throw fail(component: index, .invalidSectionEntry(offset: offset, size: size, sectionSize: sectionSize))
                    }
                    lastEnd = offset + size
                    sum += size
                }
                entries.append(BTFDataSectionVariable(type: type, offset: offset, size: size))
            }
            if sectionSize > 0 && sum > sectionSize {
                throw fail(.sectionEntriesExceedSize(total: sum, sectionSize: sectionSize))
            }
            return .dataSection(size: sectionSize, variables: entries)
        }

        /// `btf_float_check_meta`.
        mutating func decodeFloat() throws(BTFError) -> BTFKind {
            try requireZeroVlen()
            try requireNoKindFlag()
            let size = Int(sizeField)
            guard [2, 4, 8, 12, 16].contains(size) else { throw fail(.invalidSize(size, allowed: "2, 4, 8, 12 or 16")) }
            return .float(size: size)
        }

        /// `btf_decl_tag_check_meta`, allowing `kind_flag` (attribute tags).
        mutating func decodeDeclTag() throws(BTFError) -> BTFKind {
            try need(4)
            try requireNonEmptyName()
            try requireZeroVlen()
            try requireTypeID(sizeField, what: "tagged type", allowVoid: false)
            let index = Int32(bitPattern: reader.u32(data))
            guard index >= -1 else { throw fail(.invalidComponentIndex(Int(index))) }
            return .declTag(type: sizeField, componentIndex: Int(index))
        }
    }
}
