/// When CO-RE considers a local type and a target type the same, in libbpf's three degrees:
/// fields that can be relocated into each other, types that are compatible (`type_exists`,
/// `type_size`, `type_id_target`), and types that match member by member (`type_matches`).
extension CORE {
    /// The recursion limit libbpf puts on each comparison.
    static let maximumComparisonDepth = 32

    /// `bpf_core_fields_are_compat`: composites always (their members are matched separately),
    /// pointers and floats by kind, enums and forward declarations by name, integers unless they
    /// are old-style bitfield integers, arrays by element.
    static func fieldsAreCompatible(_ localBTF: BTF, _ localID: UInt32, _ target: BTF, _ targetID: UInt32)
        throws(Failure) -> Bool
    {
        var (localID, targetID) = (localID, targetID)
        for _ in 0..<maximumComparisonDepth {
            guard let (_, local) = skip(localBTF, localID), let (_, other) = skip(target, targetID) else {
                throw Failure(reason: "a field type does not exist")
            }
            if isComposite(local.kind) && isComposite(other.kind) { return true }
            guard kindClass(local.kind) == kindClass(other.kind) else { return false }
            switch (local.kind, other.kind) {
            case (.pointer, _), (.float, _):
                return true
            case (.forward, _), (.enumeration, _), (.enumeration64, _):
                return namesMatch(local.name, other.name)
            case (.int(_, _, let localOffset, _), .int(_, _, let targetOffset, _)):
                return localOffset == 0 && targetOffset == 0
            case (.array(let localElement, _, _), .array(let targetElement, _, _)):
                (localID, targetID) = (localElement, targetElement)
            default:
                return false
            }
        }
        throw Failure(reason: "field types nest deeper than \(maximumComparisonDepth)")
    }

    /// `bpf_core_types_are_compat`: same kind class, then integers (not old-style bitfields),
    /// pointers and arrays by what they point to, prototypes parameter by parameter; composites,
    /// enums and forward declarations by kind alone (their names already matched).
    static func typesAreCompatible(_ localBTF: BTF, _ localID: UInt32, _ target: BTF, _ targetID: UInt32, level: Int)
        throws(Failure) -> Bool
    {
        guard let local = localBTF.type(localID), let other = target.type(targetID),
              kindClass(local.kind) == kindClass(other.kind) else { return false }
        var (localID, targetID) = (localID, targetID)
        for _ in 0..<maximumComparisonDepth {
            guard let (_, local) = skip(localBTF, localID), let (_, other) = skip(target, targetID) else {
                throw Failure(reason: "a type does not exist")
            }
            guard kindClass(local.kind) == kindClass(other.kind) else { return false }
            switch (local.kind, other.kind) {
            case (.void, _), (.structure, _), (.union, _), (.enumeration, _), (.enumeration64, _), (.forward, _):
                return true
            case (.int(_, _, let localOffset, _), .int(_, _, let targetOffset, _)):
                return localOffset == 0 && targetOffset == 0
            case (.pointer(let localPointee), .pointer(let targetPointee)):
                (localID, targetID) = (localPointee, targetPointee)
            case (.array(let localElement, _, _), .array(let targetElement, _, _)):
                (localID, targetID) = (localElement, targetElement)
            case (.functionProto(let localReturn, let localParameters),
                  .functionProto(let targetReturn, let targetParameters)):
                guard localParameters.count == targetParameters.count else { return false }
                for (localParameter, targetParameter) in zip(localParameters, targetParameters) {
                    guard level > 0 else { throw Failure(reason: "prototypes nest too deeply") }
                    guard try typesAreCompatible(localBTF, localBTF.skippingModifiersAndTypedefs(localParameter.type),
                                                 target, target.skippingModifiersAndTypedefs(targetParameter.type),
                                                 level: level - 1)
                    else { return false }
                }
                (localID, targetID) = (localReturn, targetReturn)
            default:
                return false
            }
        }
        throw Failure(reason: "types nest deeper than \(maximumComparisonDepth)")
    }

    /// `bpf_core_types_match`: names match (flavours aside), and then by kind: integers of the same
    /// size and signedness, enums whose every local enumerator the target names, composites whose
    /// every local member has a target member of a matching name and type (behind a pointer, a
    /// struct matches a struct or a forward declaration of one), arrays of the same length.
    static func typesMatch(_ localBTF: BTF, _ localID: UInt32, _ target: BTF, _ targetID: UInt32,
                           behindPointer: Bool, level: Int) throws(Failure) -> Bool
    {
        guard level > 0 else { throw Failure(reason: "types nest too deeply to match") }
        var (localID, targetID, behindPointer) = (localID, targetID, behindPointer)
        for _ in 0..<maximumComparisonDepth {
            guard let (_, local) = skip(localBTF, localID), let (_, other) = skip(target, targetID) else {
                throw Failure(reason: "a type does not exist")
            }
            guard namesMatch(local.name, other.name) else { return false }
            switch local.kind {
            case .void:
                return other.kind.code == .void
            case .forward(let localIsUnion):
                if case .forward(let targetIsUnion) = other.kind { return localIsUnion == targetIsUnion }
                guard behindPointer else { return false }
                switch other.kind {
                case .structure: return !localIsUnion
                case .union: return localIsUnion
                default: return false
                }
            case .enumeration(let size, _, let values), .enumeration64(let size, _, let values):
                guard let targetValues = enumerators(other.kind), case let targetSize? = target.resolvedSize(of: other.id),
                      size == targetSize, values.count <= targetValues.count else { return false }
                return values.allSatisfy { value in targetValues.contains { namesMatch(value.name, $0.name) } }
            case .structure(_, let localMembers), .union(_, let localMembers):
                let localIsUnion = local.kind.code == .union
                if behindPointer {
                    if local.kind.code == other.kind.code { return true }
                    guard case .forward(let targetIsUnion) = other.kind else { return false }
                    return localIsUnion == targetIsUnion
                }
                guard local.kind.code == other.kind.code else { return false }
                let targetMembers = members(other.kind)
                guard localMembers.count <= targetMembers.count else { return false }
                for localMember in localMembers {
                    var matched = false
                    for targetMember in targetMembers where namesMatch(localMember.name, targetMember.name) {
                        if try typesMatch(localBTF, localMember.type, target, targetMember.type,
                                          behindPointer: behindPointer, level: level - 1)
                        {
                            matched = true
                            break
                        }
                    }
                    if !matched { return false }
                }
                return true
            case .int(let size, let encoding, _, _):
                guard case .int(let targetSize, let targetEncoding, _, _) = other.kind else { return false }
                return size == targetSize && encoding.isSigned == targetEncoding.isSigned
            case .pointer(let pointee):
                guard case .pointer(let targetPointee) = other.kind else { return false }
                (localID, targetID, behindPointer) = (pointee, targetPointee, true)
            case .array(let element, _, let count):
                guard case .array(let targetElement, _, let targetCount) = other.kind, count == targetCount else {
                    return false
                }
                (localID, targetID) = (element, targetElement)
            case .functionProto(let returnType, let parameters):
                guard case .functionProto(let targetReturn, let targetParameters) = other.kind,
                      parameters.count == targetParameters.count else { return false }
                for (parameter, targetParameter) in zip(parameters, targetParameters) {
                    guard try typesMatch(localBTF, parameter.type, target, targetParameter.type,
                                         behindPointer: behindPointer, level: level - 1)
                    else { return false }
                }
                (localID, targetID) = (returnType, targetReturn)
            default:
                return false
            }
        }
        throw Failure(reason: "types nest deeper than \(maximumComparisonDepth)")
    }
}
