/// The type records of a checked BTF, read where they are stored: where each type's record
/// starts, and how to read its header and kind-specific data. A type is decoded when it is asked
/// for, its components and names only when those are, so that a BTF of any size (a kernel's holds
/// over 100,000 types) costs its bytes plus four bytes per type.
struct BTFRecords: Sendable {
    /// The string section, and through it the whole BTF data.
    let strings: BTFStringTable
    /// Where the record of type `id` starts in the BTF data (`offsets[0]`, void, is unused).
    let offsets: [UInt32]

    var reader: BTFByteReader { strings.reader }

    /// The number of types, void included.
    var count: Int { offsets.count }

    /// The common header of type `id` (1 ..< count).
    @inline(__always)
    func header(_ id: UInt32) -> BTFTypeHeader {
        let offset = Int(offsets[Int(id)])
        return BTFTypeHeader(nameOffset: reader.u32(offset), info: reader.u32(offset + 4),
                             sizeOrType: reader.u32(offset + 8))
    }

    /// The kind number of type `id`, without decoding anything else (void for 0).
    @inline(__always)
    func code(_ id: UInt32) -> BTFKind.Code {
        guard id != 0 else { return .void }
        return BTFKind.Code(rawValue: UInt8(truncatingIfNeeded: (reader.u32(Int(offsets[Int(id)]) + 4) >> 24) & 0x1f))
            ?? .void
    }

    /// The `size` or `type` word of type `id` (1 ..< count).
    @inline(__always)
    func sizeOrType(_ id: UInt32) -> UInt32 { reader.u32(Int(offsets[Int(id)]) + 8) }

    /// The `vlen` of type `id` (1 ..< count): its number of components, or a FUNC's linkage.
    @inline(__always)
    func vlen(_ id: UInt32) -> Int { Int(reader.u32(Int(offsets[Int(id)]) + 4) & 0xffff) }

    /// Word `index` of the kind-specific data of type `id` (an INT's bits, an ARRAY's fields, a VAR's linkage,
    /// a DECL_TAG's component index).
    @inline(__always)
    func dataWord(_ id: UInt32, _ index: Int) -> UInt32 { reader.u32(data(id) + 4 * index) }

    /// Where the kind-specific data of type `id` (1 ..< count) starts.
    @inline(__always)
    func data(_ id: UInt32) -> Int { Int(offsets[Int(id)]) + 12 }

    /// Member `index` of STRUCT or UNION `id`, as stored.
    @inline(__always)
    func member(_ id: UInt32, _ index: Int) -> BTFRawMember {
        reader.member(data: data(id), index: index, kindFlag: header(id).kindFlag)
    }

    /// Parameter `index` of FUNC_PROTO `id`.
    @inline(__always)
    func parameter(_ id: UInt32, _ index: Int) -> (nameOffset: UInt32, type: UInt32) {
        reader.parameter(data: data(id), index: index)
    }

    /// Entry `index` of DATASEC `id`.
    @inline(__always)
    func entry(_ id: UInt32, _ index: Int) -> (type: UInt32, offset: Int, size: Int) {
        reader.entry(data: data(id), index: index)
    }

    /// Type `id` (0 ..< count), decoded.
    func type(_ id: UInt32) -> BTFType {
        guard id != 0 else { return .void }
        let header = header(id)
        return BTFType(id: id, storedName: .stored(strings, header.nameOffset),
                       kind: kind(header: header, data: Int(offsets[Int(id)]) + 12), header: header)
    }

    /// Decodes a record that `BTFTypeDecoder` has checked, so every field is in range and every
    /// enumerated value (INT encoding, linkage) valid; the fallbacks below are never taken.
    private func kind(header: BTFTypeHeader, data: Int) -> BTFKind {
        let field = header.sizeOrType
        func components<Element: BTFComponent>(_: Element.Type, _ code: BTFKind.Code) -> BTFComponents<Element> {
            BTFComponents(stored: BTFStoredComponents(
                strings: strings, start: data, count: header.vlen, code: code, kindFlag: header.kindFlag))
        }
        switch BTFKind.Code(rawValue: header.kindNumber) ?? .void {
        case .void: return .void
        case .int:
            let word = reader.u32(data)
            return .int(size: Int(field), encoding: BTFIntEncoding(rawValue: UInt8(word >> 24)) ?? .none,
                        offset: Int((word >> 16) & 0xff), bits: Int(word & 0xff))
        case .pointer: return .pointer(to: field)
        case .array:
            return .array(element: reader.u32(data), index: reader.u32(data + 4), count: Int(reader.u32(data + 8)))
        case .structure: return .structure(size: Int(field), members: components(BTFMember.self, .structure))
        case .union: return .union(size: Int(field), members: components(BTFMember.self, .union))
        case .enumeration:
            return .enumeration(size: Int(field), isSigned: header.kindFlag,
                                values: components(BTFEnumValue.self, .enumeration))
        case .enumeration64:
            return .enumeration64(size: Int(field), isSigned: header.kindFlag,
                                  values: components(BTFEnumValue.self, .enumeration64))
        case .forward: return .forward(isUnion: header.kindFlag)
        case .typedef: return .typedef(field)
        case .volatile: return .volatile(field)
        case .const: return .const(field)
        case .restrict: return .restrict(field)
        case .function:
            return .function(proto: field, linkage: BTFFunctionLinkage(rawValue: UInt16(header.vlen)) ?? .static)
        case .functionProto:
            return .functionProto(returnType: field, parameters: components(BTFParameter.self, .functionProto))
        case .variable:
            return .variable(type: field, linkage: BTFVariableLinkage(rawValue: reader.u32(data)) ?? .static)
        case .dataSection:
            return .dataSection(size: Int(field), variables: components(BTFDataSectionVariable.self, .dataSection))
        case .float: return .float(size: Int(field))
        case .declTag: return .declTag(type: field, componentIndex: Int(Int32(bitPattern: reader.u32(data))))
        case .typeTag: return .typeTag(field)
        }
    }
}
