/// The values of CO-RE relocations (`bpf_core_calc_relo_insn`): the local value the compiler
/// put in the instruction, the target value to patch in, and whether the instruction must be
/// poisoned instead because the target lacks what it needs.
extension CORE {
    /// What relocating one instruction means (`struct bpf_core_relo_res`).
    struct Resolution {
        /// The value computed from the local BTF, which the instruction must hold when `validate`.
        var original: UInt64 = 0
        /// The value to write.
        var new: UInt64 = 0
        /// The field sizes and types behind a byte-offset relocation of a non-bitfield field, so
        /// that a load or store can be resized to the target's field.
        var originalSize = 0, newSize = 0
        var originalTypeID: UInt32 = 0, newTypeID: UInt32 = 0
        var validate = true
        /// The local access, as messages name it (`[2] struct task.uid (0:1 @ offset 4)`).
        var local = ""
        /// Why the instruction must be poisoned, if it must.
        var poison: String?
        /// The field changed size in a way a load or store cannot follow (not a pointer, not an
        /// unsigned integer): a load or store with this relocation is poisoned.
        var failsSizeAdjustment = false
    }

    /// Resolves `record` against every candidate of its root type in `target`: all candidates
    /// that have the access must agree on the result (else the relocation is ambiguous and fails);
    /// when none has it, field and enum values that need it are poisoned while existence checks
    /// read 0.
    static func resolve(_ record: BTFCoreRelocation, local: BTF, target: CORETarget) throws(Failure) -> Resolution {
        guard let localRoot = local.type(record.typeID) else {
            throw Failure(reason: "local type \(record.typeID) does not exist")
        }
        let localSpec = try parse(record, in: local)
        if record.kind == .typeIDLocal {
            return Resolution(original: UInt64(record.typeID), new: UInt64(record.typeID), validate: false,
                              local: describe(localSpec, kind: record.kind))
        }
        guard !localRoot.name.isEmpty else {
            throw Failure(reason: "relocations against anonymous types are not supported (libbpf refuses them too)")
        }
        var chosen: (spec: Specification, resolution: Resolution)?
        for candidate in target.candidates(for: localRoot) {
            guard let candidateSpec = try match(localSpec, kind: record.kind, candidate: candidate, in: target.btf)
            else { continue }
            var resolution = try calculate(record.kind, local: localSpec, target: candidateSpec)
            resolution.local = describe(localSpec, kind: record.kind)
            guard let (spec, first) = chosen else {
                chosen = (candidateSpec, resolution)
                continue
            }
            if candidateSpec.bitOffset != spec.bitOffset {
                throw Failure(reason: "ambiguous: candidates \(describe(spec, kind: record.kind)) and"
                    + " \(describe(candidateSpec, kind: record.kind)) put the field at different offsets")
            }
            if (first.poison == nil) != (resolution.poison == nil) || first.new != resolution.new {
                throw Failure(reason: "ambiguous: candidates \(describe(spec, kind: record.kind)) and"
                    + " \(describe(candidateSpec, kind: record.kind)) give different values (\(first.new) and"
                    + " \(resolution.new))")
            }
        }
        if let chosen { return chosen.resolution }
        var resolution = try calculate(record.kind, local: localSpec, target: nil)
        resolution.local = describe(localSpec, kind: record.kind)
        return resolution
    }

    /// `bpf_core_calc_relo`: the local and target values of a relocation, the target being nil
    /// when no candidate matched.
    static func calculate(_ kind: BTFCoreRelocationKind, local: Specification, target: Specification?)
        throws(Failure) -> Resolution
    {
        var resolution = Resolution()
        if kind.isFieldRelocation {
            guard let original = try fieldValue(kind, local) else { throw Failure(reason: "the local field has no value") }
            resolution.original = original.value
            resolution.originalSize = original.size
            resolution.originalTypeID = original.typeID
            resolution.validate = original.validate
            guard let target else {
                if kind == .fieldExists { return resolution }  // new = 0
                resolution.poison = "the target BTF has no such field"
                return resolution
            }
            guard let new = try fieldValue(kind, target) else { throw Failure(reason: "the target field has no value") }
            resolution.new = new.value
            resolution.newSize = new.size
            resolution.newTypeID = new.typeID
            if resolution.originalSize != resolution.newSize {
                // Only pointers and unsigned integers read correctly with a resized load or store.
                let localType = local.btf.type(resolution.originalTypeID)?.kind
                let targetType = target.btf.type(resolution.newTypeID)?.kind
                switch (localType, targetType) {
                case (.pointer?, .pointer?):
                    break
                case let (.int(_, localEncoding, _, _)?, .int(_, targetEncoding, _, _)?)
                    where !localEncoding.isSigned && !targetEncoding.isSigned:
                    break
                default:
                    resolution.failsSizeAdjustment = true
                }
            }
            return resolution
        }
        if kind.isTypeRelocation {
            resolution.original = try typeValue(kind, local)
            resolution.validate = kind != .typeIDTarget
            resolution.new = try target.map { spec throws(Failure) in try typeValue(kind, spec) } ?? 0
            return resolution
        }
        resolution.original = try enumValue(kind, local) ?? 0
        guard let target else {
            if kind == .enumValueValue {
                resolution.poison = "the target BTF has no such enumerator"
            }
            return resolution
        }
        resolution.new = try enumValue(kind, target) ?? 0
        return resolution
    }

    /// `bpf_core_calc_field_relo` for a specification that exists: the value, and for a
    /// byte offset of a whole field the field's size and type (0 for bitfields); `validate` is
    /// whether the compiler's value can be checked (not for bitfields, whose layout it may
    /// choose differently). Nil for existence, which is 1 for any specification.
    static func fieldValue(_ kind: BTFCoreRelocationKind, _ spec: Specification) throws(Failure)
        -> (value: UInt64, size: Int, typeID: UInt32, validate: Bool)?
    {
        if kind == .fieldExists { return (1, 0, 0, true) }
        let btf = spec.btf
        guard let last = spec.accessors.last else { return nil }
        guard let name = last.name else {
            // The access ends in a subscript: only its offset and size mean anything.
            guard let size = btf.resolvedSize(of: last.typeID) else { throw Failure(reason: "array element has no size") }
            switch kind {
            case .fieldByteOffset: return (UInt64(spec.bitOffset / 8), size, last.typeID, true)
            case .fieldByteSize: return (UInt64(size), 0, 0, true)
            default: throw Failure(reason: "a \(kind.objdumpTag) relocation cannot apply to an array element")
            }
        }
        guard let container = btf.type(last.typeID) else { throw Failure(reason: "type \(last.typeID) does not exist") }
        let member = members(container.kind)[last.index]
        guard let (fieldTypeID, fieldType) = skip(btf, member.type) else {
            throw Failure(reason: "the type of field '\(name)' does not exist")
        }
        let bitOffset = spec.bitOffset
        var bitSize = member.bitfieldSize
        let isBitfield = bitSize > 0
        var byteSize: Int
        var byteOffset: Int
        if isBitfield {
            guard let size = btf.resolvedSize(of: fieldTypeID), size > 0 else {
                throw Failure(reason: "bitfield '\(name)' has a type without size")
            }
            byteSize = size
            byteOffset = bitOffset / 8 / byteSize * byteSize
            // The smallest load that holds the whole bitfield.
            while bitOffset + bitSize - byteOffset * 8 > byteSize * 8 {
                guard byteSize < 8 else { throw Failure(reason: "bitfield '\(name)' cannot be read with a 64-bit load") }
                byteSize *= 2
                byteOffset = bitOffset / 8 / byteSize * byteSize
            }
        } else {
            guard let size = btf.resolvedSize(of: fieldTypeID) else { throw Failure(reason: "field '\(name)' has no size") }
            byteSize = size
            byteOffset = bitOffset / 8
            bitSize = byteSize * 8
        }
        switch kind {
        case .fieldByteOffset:
            return (UInt64(byteOffset), isBitfield ? 0 : byteSize, isBitfield ? 0 : fieldTypeID, !isBitfield)
        case .fieldByteSize:
            return (UInt64(byteSize), 0, 0, !isBitfield)
        case .fieldSigned:
            let signed: Bool
            switch fieldType.kind {
            case .int(_, let encoding, _, _): signed = encoding.isSigned
            case .enumeration(_, let isSigned, _), .enumeration64(_, let isSigned, _): signed = isSigned
            default: signed = false
            }
            return (signed ? 1 : 0, 0, 0, true)
        case .fieldLShiftU64:
            return (UInt64(bitPattern: Int64(64 - (bitOffset + bitSize - byteOffset * 8))), 0, 0, !isBitfield)
        case .fieldRShiftU64:
            return (UInt64(bitPattern: Int64(64 - bitSize)), 0, 0, true)
        default:
            throw Failure(reason: "\(kind.objdumpTag) is not a field relocation")
        }
    }

    /// `bpf_core_calc_type_relo` for a type that exists.
    static func typeValue(_ kind: BTFCoreRelocationKind, _ spec: Specification) throws(Failure) -> UInt64 {
        switch kind {
        case .typeIDTarget, .typeIDLocal: return UInt64(spec.rootTypeID)
        case .typeExists, .typeMatches: return 1
        case .typeSize:
            guard let size = spec.btf.resolvedSize(of: spec.rootTypeID) else {
                throw Failure(reason: "type [\(spec.rootTypeID)] has no size")
            }
            return UInt64(size)
        default: throw Failure(reason: "\(kind.objdumpTag) is not a type relocation")
        }
    }

    /// `bpf_core_calc_enumval_relo` for an enumerator that exists (an ENUM's value is a C int,
    /// sign-extended as libbpf reads it).
    static func enumValue(_ kind: BTFCoreRelocationKind, _ spec: Specification) throws(Failure) -> UInt64? {
        if kind == .enumValueExists { return 1 }
        guard let accessor = spec.accessors.first, let type = spec.btf.type(accessor.typeID) else { return nil }
        switch type.kind {
        case .enumeration(_, _, let values):
            return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: values[accessor.index].value)))
        case .enumeration64(_, _, let values):
            return values[accessor.index].unsignedValue
        default:
            return nil
        }
    }
}
