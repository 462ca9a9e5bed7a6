/// The computation of CO-RE relocations, following libbpf's `relo_core.c`: a relocation's access
/// string is parsed against the local BTF into a specification (its named members and
/// subscripts: anonymous members are walked through but not recorded), then matched against each
/// candidate type of the target, looking for every named member by name through anonymous
/// structs and unions at any depth and requiring compatible field types.
enum CORE {
    /// A relocation that cannot be computed at all (malformed, ambiguous, or not patchable): the
    /// program does not load. A relocation that merely finds nothing is not a failure; it is
    /// poisoned (see `Resolution.poison`).
    struct Failure: Error {
        let reason: String
    }

    /// libbpf's `BPF_CORE_SPEC_MAX_LEN`: the deepest access path.
    static let maximumSpecificationLength = 64

    /// One step of a specification: a named member of the composite `typeID` (by position), or a
    /// subscript (`name` nil) of an array of `typeID` elements; the first step subscripts the root.
    struct Accessor {
        var typeID: UInt32
        var index: Int
        var name: String?
    }

    /// A parsed or matched access: the root type, its named steps, the raw indices (anonymous
    /// members included) and the bit offset reached (`struct bpf_core_spec`).
    struct Specification {
        var btf: BTF
        var rootTypeID: UInt32
        var accessors: [Accessor] = []
        var raw: [Int] = []
        var bitOffset = 0
    }

    // MARK: - Names and kinds

    /// A name without its `___flavour` suffix (`bpf_core_essential_name_len`): cut at the last
    /// `X___Y` where neither X nor Y is an underscore.
    static func essentialName(_ name: String) -> Substring {
        let bytes = Array(name.utf8)
        var position = bytes.count - 5
        let underscore = UInt8(ascii: "_")
        while position >= 0 {
            if bytes[position] != underscore, bytes[position + 1] == underscore, bytes[position + 2] == underscore,
               bytes[position + 3] == underscore, bytes[position + 4] != underscore
            {
                return Substring(name.utf8.prefix(position + 1))
            }
            position -= 1
        }
        return Substring(name)
    }

    /// Whether two names are the same up to flavours, an empty name matching anything
    /// (`bpf_core_names_match`).
    static func namesMatch(_ a: String, _ b: String) -> Bool {
        a.isEmpty || b.isEmpty || essentialName(a) == essentialName(b)
    }

    /// The kind as CO-RE compares kinds (`btf_kind_core_compat`): ENUM and ENUM64 are one class.
    static func kindClass(_ kind: BTFKind) -> UInt8 {
        kind.code == .enumeration64 ? BTFKind.Code.enumeration.rawValue : kind.code.rawValue
    }

    static func isComposite(_ kind: BTFKind) -> Bool {
        switch kind {
        case .structure, .union: true
        default: false
        }
    }

    static func members(_ kind: BTFKind) -> BTFComponents<BTFMember> {
        switch kind {
        case .structure(_, let members), .union(_, let members): members
        default: []
        }
    }

    static func enumerators(_ kind: BTFKind) -> BTFComponents<BTFEnumValue>? {
        switch kind {
        case .enumeration(_, _, let values), .enumeration64(_, _, let values): values
        default: nil
        }
    }

    /// `skip_mods_and_typedefs`: the type and its id.
    static func skip(_ btf: BTF, _ id: UInt32) -> (id: UInt32, type: BTFType)? {
        let skipped = btf.skippingModifiersAndTypedefs(id)
        return btf.type(skipped).map { (skipped, $0) }
    }

    /// The element count of an array that is the last member of the struct `accessor` names,
    /// declared with no elements: a flexible array, whose subscripts are not bounded (`is_flex_arr`).
    static func isFlexibleArray(_ btf: BTF, after accessor: Accessor?, count: Int) -> Bool {
        guard let accessor, accessor.name != nil, count == 0, let type = btf.type(accessor.typeID) else { return false }
        return accessor.index == members(type.kind).count - 1
    }

    // MARK: - Parsing the local access (bpf_core_parse_spec)

    static func parse(_ record: BTFCoreRelocation, in btf: BTF) throws(Failure) -> Specification {
        var spec = Specification(btf: btf, rootTypeID: record.typeID)
        if record.kind.isTypeRelocation {
            guard record.accessString == "0" else {
                throw Failure(reason: "a type relocation's access string must be \"0\" (is \"\(record.accessString)\")")
            }
            return spec
        }
        // Each index is a C int, as sscanf("%d") reads it.
        let pieces = record.accessString.split(separator: ":", omittingEmptySubsequences: false)
        var raw: [Int] = []
        for piece in pieces {
            guard let index = Int32(piece), index >= 0 else {
                throw Failure(reason: "malformed access string '\(record.accessString)'")
            }
            raw.append(Int(index))
        }
        guard !raw.isEmpty else { throw Failure(reason: "empty access string") }
        guard raw.count <= maximumSpecificationLength else {
            throw Failure(reason: "access string '\(record.accessString)' is deeper than \(maximumSpecificationLength)")
        }
        spec.raw = raw
        guard let (rootID, root) = skip(btf, record.typeID) else {
            throw Failure(reason: "local type \(record.typeID) does not exist")
        }
        spec.accessors = [Accessor(typeID: rootID, index: raw[0], name: nil)]
        if record.kind.isEnumRelocation {
            guard let values = enumerators(root.kind), raw.count == 1, raw[0] < values.count else {
                throw Failure(reason: "enumerator #\(raw[0]) of local type \(record.typeID) does not exist")
            }
            spec.accessors[0].name = values[raw[0]].name
            return spec
        }
        guard let rootSize = btf.resolvedSize(of: rootID), let offset = bits(raw[0], times: rootSize) else {
            throw Failure(reason: "local type \(record.typeID) has no size")
        }
        spec.bitOffset = offset
        var id = rootID
        for index in raw.dropFirst() {
            guard let (currentID, type) = skip(btf, id) else { throw Failure(reason: "local type \(id) does not exist") }
            switch type.kind {
            case .structure(_, let members), .union(_, let members):
                guard index < members.count else {
                    throw Failure(reason: "member #\(index) of local type '\(type.name)' does not exist")
                }
                let member = members[index]
                spec.bitOffset += member.bitOffset
                if !member.name.isEmpty {
                    spec.accessors.append(Accessor(typeID: currentID, index: index, name: member.name))
                }
                id = member.type
            case .array(let element, _, let count):
                guard let (elementID, _) = skip(btf, element) else {
                    throw Failure(reason: "local type \(element) does not exist")
                }
                guard isFlexibleArray(btf, after: spec.accessors.last, count: count) || index < count else {
                    throw Failure(reason: "subscript \(index) is past the \(count) elements of a local array")
                }
                spec.accessors.append(Accessor(typeID: elementID, index: index, name: nil))
                guard let size = btf.resolvedSize(of: elementID), let offset = bits(index, times: size) else {
                    throw Failure(reason: "local array element type \(elementID) has no size")
                }
                spec.bitOffset += offset
                id = elementID
            default:
                throw Failure(reason: "access step \(index) goes into local type [\(currentID)] of kind"
                    + " \(type.kind.code.name), which is neither a struct, a union nor an array")
            }
        }
        return spec
    }

    // MARK: - Matching a candidate (bpf_core_spec_match)

    /// The target specification of `local` rooted at candidate `candidate`, or nil when the
    /// candidate does not have the access.
    static func match(_ local: Specification, kind: BTFCoreRelocationKind, candidate: UInt32, in target: BTF)
        throws(Failure) -> Specification?
    {
        var spec = Specification(btf: target, rootTypeID: candidate)
        if kind.isTypeRelocation {
            let matches = kind == .typeMatches
                ? try typesMatch(local.btf, local.rootTypeID, target, candidate, behindPointer: false, level: 32)
                : try typesAreCompatible(local.btf, local.rootTypeID, target, candidate, level: Int.max)
            return matches ? spec : nil
        }
        if kind.isEnumRelocation {
            guard let (id, type) = skip(target, candidate), let values = enumerators(type.kind),
                  let localName = local.accessors[0].name else { return nil }
            let wanted = essentialName(localName)
            guard let index = values.firstIndex(where: { essentialName($0.name) == wanted }) else { return nil }
            spec.accessors = [Accessor(typeID: id, index: index, name: values[index].name)]
            spec.raw = [index]
            return spec
        }
        var id = candidate
        for (position, accessor) in local.accessors.enumerated() {
            guard let (currentID, type) = skip(target, id) else { throw Failure(reason: "target type \(id) does not exist") }
            id = currentID
            if accessor.name != nil {
                guard let next = try matchMember(local.btf, accessor, target, composite: id, spec: &spec) else {
                    return nil
                }
                id = next
                continue
            }
            if position > 0 {
                guard case .array(let element, _, let count) = type.kind else { return nil }
                guard isFlexibleArray(target, after: spec.accessors.last, count: count) || accessor.index < count else {
                    return nil
                }
                guard let (elementID, _) = skip(target, element) else {
                    throw Failure(reason: "target type \(element) does not exist")
                }
                id = elementID
            }
            guard spec.raw.count < maximumSpecificationLength else {
                throw Failure(reason: "the target's access is deeper than \(maximumSpecificationLength)")
            }
            spec.accessors.append(Accessor(typeID: id, index: accessor.index, name: nil))
            spec.raw.append(accessor.index)
            guard let size = target.resolvedSize(of: id), let offset = bits(accessor.index, times: size) else {
                throw Failure(reason: "target type \(id) has no size")
            }
            spec.bitOffset += offset
        }
        return spec
    }

    /// Finds the member `accessor` names in the target composite `composite`, searching anonymous
    /// members depth first in member order (`bpf_core_match_member`); the first member of that
    /// name decides, matching only if the field types are compatible. Returns the member's type.
    static func matchMember(_ localBTF: BTF, _ accessor: Accessor, _ target: BTF, composite: UInt32,
                            spec: inout Specification) throws(Failure) -> UInt32?
    {
        guard let localType = localBTF.type(accessor.typeID), let name = accessor.name else { return nil }
        let localMember = members(localType.kind)[accessor.index]
        let outcome = try findMember(named: name, localFieldType: localMember.type, localBTF, target,
                                     composite: composite, spec: &spec)
        if case .found(let next) = outcome { return next }
        return nil
    }

    /// What a search for a member by name found.
    private enum MemberSearch {
        case absent
        /// The first member of that name has a type the local field cannot be relocated to.
        case incompatible
        case found(type: UInt32)
    }

    private static func findMember(named name: String, localFieldType: UInt32, _ localBTF: BTF, _ target: BTF,
                                   composite: UInt32, spec: inout Specification) throws(Failure) -> MemberSearch
    {
        guard let (id, type) = skip(target, composite), isComposite(type.kind) else { return .absent }
        for (index, member) in members(type.kind).enumerated() {
            guard spec.raw.count < maximumSpecificationLength else {
                throw Failure(reason: "the target's access is deeper than \(maximumSpecificationLength)")
            }
            if member.name.isEmpty {
                // An embedded anonymous struct or union: look inside.
                spec.bitOffset += member.bitOffset
                spec.raw.append(index)
                let inner = try findMember(named: name, localFieldType: localFieldType, localBTF, target,
                                           composite: member.type, spec: &spec)
                if case .absent = inner {
                    spec.bitOffset -= member.bitOffset
                    spec.raw.removeLast()
                    continue
                }
                return inner
            }
            guard member.name == name else { continue }
            guard try fieldsAreCompatible(localBTF, localFieldType, target, member.type) else { return .incompatible }
            spec.bitOffset += member.bitOffset
            spec.raw.append(index)
            spec.accessors.append(Accessor(typeID: id, index: index, name: name))
            return .found(type: member.type)
        }
        return .absent
    }

    /// `count × size × 8` (bits), or nil when it overflows.
    static func bits(_ count: Int, times size: Int) -> Int? {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, bytes <= Int.max / 8 else { return nil }
        return bytes * 8
    }

    /// A specification as libbpf's messages show it: `[id] struct task.u.pid (0:1:0 @ offset 8)`.
    static func describe(_ spec: Specification, kind: BTFCoreRelocationKind) -> String {
        let btf = spec.btf
        guard let root = btf.type(spec.rootTypeID) else { return "[\(spec.rootTypeID)]" }
        let kindName: String
        switch root.kind {
        case .structure: kindName = "struct"
        case .union: kindName = "union"
        case .enumeration, .enumeration64: kindName = "enum"
        case .typedef: kindName = "typedef"
        default: kindName = root.kind.code.name.lowercased()
        }
        var text = "[\(spec.rootTypeID)] \(kindName) \(root.name.isEmpty ? "(anon)" : root.name)"
        if kind.isTypeRelocation { return text }
        if kind.isEnumRelocation {
            return text + "::\(spec.accessors.first?.name ?? "?") = \(spec.raw.first ?? 0)"
        }
        for (position, accessor) in spec.accessors.enumerated() {
            if let name = accessor.name { text += ".\(name)" } else if position > 0 { text += "[\(accessor.index)]" }
        }
        let raw = spec.raw.map(String.init).joined(separator: ":")
        return text + " (\(raw) @ offset \(spec.bitOffset / 8)" + (spec.bitOffset % 8 == 0 ? ")" : ".\(spec.bitOffset % 8))")
    }
}
