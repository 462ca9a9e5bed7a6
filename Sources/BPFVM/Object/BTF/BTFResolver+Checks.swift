extension BTFResolver {
    /// `btf_check_all_types` followed by `btf_check_type_tags`.
    mutating func checkAllTypes() throws(BTFError) {
        for index in 1..<records.count {
            let id = UInt32(index)
            if needsResolve(id) && !isResolved(id) { try resolve(id) }
            if code(id) == .functionProto { try checkFunctionProto(id) }
        }
        try checkTypeTags()
    }

    /// `btf_func_check`: a FUNC's type is a FUNC_PROTO whose parameters are named (extern
    /// declarations, never loaded into a kernel, may leave them unnamed).
    mutating func checkFunction(_ id: UInt32, proto: UInt32, isExtern: Bool) throws(BTFError) {
        guard code(proto) == .functionProto else {
            throw BTFError(.type(id), .invalidReference(what: "FUNC prototype", id: proto, kind: kindName(proto)))
        }
        guard !isExtern else { return }
        // Many FUNCs may share one long prototype: look at each prototype once.
        var unnamed = Int(firstUnnamedParameter[Int(proto)])
        if unnamed == -2 {
            unnamed = (0..<records.vlen(proto)).first { index in
                let parameter = records.parameter(proto, index)
                return parameter.nameOffset == 0 && parameter.type != 0
            } ?? -1
            firstUnnamedParameter[Int(proto)] = Int32(unnamed)
        }
        if unnamed >= 0 {
            throw BTFError(.type(id), .invalidParameter(index: unnamed, detail: "a function's parameters must be named"))
        }
    }

    /// `btf_func_proto_check`: the return type and each parameter have a size; only the last
    /// parameter may be the unnamed varargs marker.
    mutating func checkFunctionProto(_ id: UInt32) throws(BTFError) {
        let returnType = field(id)
        if returnType != 0 {
            if isResolveSourceOnly(returnType) { throw BTFError(.type(id), .invalidReturnType(returnType)) }
            if needsResolve(returnType) && !isResolved(returnType) { try resolve(returnType) }
            guard sizedType(returnType) != nil else { throw BTFError(.type(id), .invalidReturnType(returnType)) }
        }
        var count = records.vlen(id)
        if count > 0, case let last = records.parameter(id, count - 1), last.type == 0 {
            guard last.nameOffset == 0 else {
                throw BTFError(.type(id), .invalidParameter(index: count - 1, detail: "a named parameter cannot be void"))
            }
            count -= 1
        }
        for index in 0..<count {
            let type = records.parameter(id, index).type
            if isResolveSourceOnly(type) {
                throw BTFError(.type(id), .invalidParameter(index: index, detail: "type [\(type)] is a \(kindName(type))"))
            }
            if needsResolve(type) && !isResolved(type) { try resolve(type) }
            guard sizedType(type) != nil else {
                throw BTFError(.type(id), .invalidParameter(index: index, detail: "type [\(type)] has no size"))
            }
        }
    }

    /// `btf_check_type_tags`: in every chain of modifiers, TYPE_TAGs come first; chains are at
    /// most 32 long.
    func checkTypeTags() throws(BTFError) {
        var good = 0
        for index in 1..<records.count {
            var current = UInt32(index)
            guard isModifier(current) else { continue }
            var inTags = isTypeTag(current)
            var limit = 32
            while isModifier(current) {
                if limit == 0 { throw BTFError(.type(UInt32(index)), .modifierChainTooLong) }
                limit -= 1
                if isTypeTag(current) {
                    if !inTags { throw BTFError(.type(UInt32(index)), .typeTagAfterModifier) }
                } else {
                    inTags = false
                }
                if Int(current) <= good { break }
                current = field(current)  // a modifier's `type`
            }
            good = index
        }
    }

    // MARK: Member checks (the kernel's check_member / check_kflag_member operations)

    /// Checks that `member` (whose type is `memberType`, already resolved) fits the struct.
    func checkMember(structID: UInt32, structSize: Int, kindFlag: Bool, member: BTFRawMember, index: Int,
                     memberType: UInt32) throws(BTFError) {
        let location = BTFError.Location.component(type: structID, index: index)
        let bitOffset = member.bitOffset
        let bitfieldSize = member.bitfieldSize
        func exceeds(_ bits: Int) -> BTFError {
            BTFError(location, .memberExceedsStruct(bitOffset: bitOffset, bits: bits, structSize: structSize))
        }
        func requireByteAligned() throws(BTFError) {
            guard bitOffset % 8 == 0 else { throw BTFError(location, .memberNotByteAligned(bitOffset: bitOffset)) }
        }
        func requireFits(bytes: Int) throws(BTFError) {
            guard structSize - bitOffset / 8 >= bytes else { throw exceeds(bytes * 8) }
        }
        switch code(memberType) {
        case .int:
            let (intOffset, bits) = intBits(memberType)
            if kindFlag {
                guard isRegularInt(memberType) else { throw BTFError(location, .bitfieldBaseNotRegularInt) }
                var width = bitfieldSize
                if width == 0 {
                    try requireByteAligned()
                    width = bits
                } else if width > bits {
                    throw BTFError(location, .invalidBitfieldSize(width))
                }
                let copyBits = width + bitOffset % 8
                guard copyBits <= 128 else { throw BTFError(location, .memberTooWide(bits: copyBits)) }
                guard structSize >= bitOffset / 8, structSize - bitOffset / 8 >= (copyBits + 7) / 8 else { throw exceeds(width) }
            } else {
                let start = bitOffset + intOffset
                guard start <= Int(UInt32.max) else { throw BTFError(location, .memberOffsetBeyondStruct(bitOffset: start, structSize: structSize)) }
                let copyBits = bits + start % 8
                guard copyBits <= 128 else { throw BTFError(location, .memberTooWide(bits: copyBits)) }
                guard structSize >= start / 8, structSize - start / 8 >= (copyBits + 7) / 8 else { throw exceeds(bits) }
            }
        case .enumeration, .enumeration64:
            let size = Int(field(memberType))
            if kindFlag {
                var width = bitfieldSize
                if width == 0 {
                    try requireByteAligned()
                    width = 32
                } else if width > 32 {
                    throw BTFError(location, .invalidBitfieldSize(width))
                }
                guard structSize >= (bitOffset + width + 7) / 8 else { throw exceeds(width) }
            } else {
                try requireByteAligned()
                try requireFits(bytes: size)
            }
        case .typedef, .volatile, .const, .restrict, .typeTag:
            guard let sized = sizedType(memberType) else {
                throw BTFError(location, .unsizedType(memberType))
            }
            try checkMember(structID: structID, structSize: structSize, kindFlag: kindFlag, member: member,
                            index: index, memberType: sized.id)
        case .pointer, .array, .structure, .union, .float:
            if kindFlag && bitfieldSize != 0 { throw BTFError(location, .invalidBitfieldSize(bitfieldSize)) }
            switch code(memberType) {
            case .float:
                let size = Int(field(memberType))
                let alignment = min(8, size)
                guard bitOffset % (alignment * 8) == 0 else {
                    throw BTFError(location, .memberMisaligned(bitOffset: bitOffset, alignment: alignment))
                }
                guard bitOffset / 8 + size <= structSize else { throw exceeds(size * 8) }
            default:
                try requireByteAligned()
                try requireFits(bytes: sizedType(memberType)?.size ?? 0)
            }
        default:
            throw BTFError(location, .invalidReference(what: "member type", id: memberType, kind: kindName(memberType)))
        }
    }
}
