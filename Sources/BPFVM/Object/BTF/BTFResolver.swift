/// The kernel's second pass over a BTF (`btf_check_all_types` and `btf_check_type_tags`),
/// emulated step for step: every type that refers to others is resolved with an explicit stack
/// of at most 32 entries, which detects loops that no pointer breaks; member offsets are checked
/// against the struct size once member types are known; FUNC and FUNC_PROTO references and
/// parameters are checked; type tags must precede modifiers. Iterative, so no input can recurse
/// deeply or hang.
struct BTFResolver {
    let records: BTFRecords

    /// `MAX_RESOLVE_DEPTH`.
    static let maximumDepth = 32

    enum Mode { case undecided, pointer, structOrArray }
    enum VisitState: UInt8 { case notVisited, visited, resolved }

    struct Vertex {
        let id: UInt32
        var nextMember: Int
    }

    var resolvedIDs: [UInt32]
    /// Resolved sizes: at most `UInt32.max` (an array's is checked against it), as in the kernel.
    var resolvedSizes: [UInt32]
    var visitStates: [VisitState]
    var stack: [Vertex] = []
    var mode: Mode = .undecided
    /// The type `resolve` started from, where loop and depth errors are reported.
    var root: UInt32 = 0
    /// For each FUNC_PROTO a FUNC used, its first unnamed parameter (-1 for none; -2 until known).
    var firstUnnamedParameter: [Int32]

    /// `codes`: each type's kind, as the decoder found it.
    init(records: BTFRecords, codes: [BTFKind.Code]) {
        self.records = records
        let count = records.count
        resolvedIDs = [UInt32](repeating: 0, count: count)
        resolvedSizes = [UInt32](repeating: 0, count: count)
        visitStates = [VisitState](repeating: .notVisited, count: count)
        self.codes = codes
        firstUnnamedParameter = [Int32](repeating: -2, count: count)
        stack.reserveCapacity(Self.maximumDepth)
    }

    /// Each type's kind number, which most predicates need alone.
    let codes: [BTFKind.Code]

    // MARK: Kind predicates (the kernel's btf_type_is_*)

    func code(_ id: UInt32) -> BTFKind.Code { codes[Int(id)] }
    /// The `size` or `type` word of `id` (0 for void).
    func field(_ id: UInt32) -> UInt32 { id == 0 ? 0 : records.sizeOrType(id) }

    func isPointer(_ id: UInt32) -> Bool { code(id) == .pointer }
    func isArray(_ id: UInt32) -> Bool { code(id) == .array }
    func isVariable(_ id: UInt32) -> Bool { code(id) == .variable }
    func isFunctionProto(_ id: UInt32) -> Bool { code(id) == .functionProto }
    func isForward(_ id: UInt32) -> Bool { code(id) == .forward }
    func isTypeTag(_ id: UInt32) -> Bool { code(id) == .typeTag }

    func isModifier(_ id: UInt32) -> Bool {
        switch code(id) {
        case .typedef, .volatile, .const, .restrict, .typeTag: true
        default: false
        }
    }

    func isStructOrUnion(_ id: UInt32) -> Bool {
        switch code(id) {
        case .structure, .union: true
        default: false
        }
    }

    func needsResolve(_ id: UInt32) -> Bool {
        switch code(id) {
        case .typedef, .volatile, .const, .restrict, .typeTag, .pointer, .structure, .union, .array, .variable,
             .function, .declTag, .dataSection:
            true
        default:
            false
        }
    }

    func isResolveSourceOnly(_ id: UInt32) -> Bool {
        switch code(id) {
        case .variable, .declTag, .dataSection: true
        default: false
        }
    }

    /// `btf_type_nosize`: void, FWD, FUNC, FUNC_PROTO.
    func hasNoSize(_ id: UInt32) -> Bool {
        switch code(id) {
        case .void, .forward, .function, .functionProto: true
        default: false
        }
    }

    /// `btf_type_has_size`: the size stored in the record.
    func storedSize(_ id: UInt32) -> Int? {
        switch code(id) {
        case .int, .structure, .union, .enumeration, .enumeration64, .dataSection, .float:
            Int(field(id))
        default:
            nil
        }
    }

    /// An INT's bit offset and bit count.
    func intBits(_ id: UInt32) -> (offset: Int, bits: Int) {
        let word = records.dataWord(id, 0)
        return (Int((word >> 16) & 0xff), Int(word & 0xff))
    }

    /// `btf_type_int_is_regular`: not a bitfield-style INT, and 1, 2, 4, 8 or 16 bytes of bits.
    func isRegularInt(_ id: UInt32) -> Bool {
        guard code(id) == .int else { return false }
        let (offset, bits) = intBits(id)
        guard bits % 8 == 0 && offset == 0 else { return false }
        switch bits / 8 {
        case 1, 2, 4, 8, 16: return true
        default: return false
        }
    }

    func isSink(_ id: UInt32) -> Bool {
        switch mode {
        case .undecided: !needsResolve(id)
        case .pointer: !isModifier(id) && !isPointer(id)
        case .structOrArray: !isModifier(id) && !isArray(id) && !isStructOrUnion(id)
        }
    }

    func isResolved(_ id: UInt32) -> Bool { visitStates[Int(id)] == .resolved }

    /// `btf_type_id_size`: the sized type `id` stands for (through resolved modifiers and
    /// variables) with its size, or nil for types without a size.
    func sizedType(_ id: UInt32) -> (id: UInt32, size: Int)? {
        if hasNoSize(id) { return nil }
        if let size = storedSize(id) { return (id, size) }
        if isArray(id) { return (id, Int(resolvedSizes[Int(id)])) }
        if isPointer(id) { return (id, 8) }
        guard isModifier(id) || isVariable(id) else { return nil }
        let target = resolvedIDs[Int(id)]
        if hasNoSize(target) { return nil }
        if let size = storedSize(target) { return (target, size) }
        if isArray(target) { return (target, Int(resolvedSizes[Int(target)])) }
        if isPointer(target) { return (target, 8) }
        return nil
    }

    // MARK: The resolve stack

    mutating func push(_ id: UInt32) throws(BTFError) {
        guard stack.count < Self.maximumDepth else { throw BTFError(.type(root), .resolveDepthExceeded) }
        guard visitStates[Int(id)] == .notVisited else { throw BTFError(.type(root), .loopDetected) }
        visitStates[Int(id)] = .visited
        stack.append(Vertex(id: id, nextMember: 0))
        if mode == .undecided {
            if isPointer(id) {
                mode = .pointer
            } else if isStructOrUnion(id) || isArray(id) {
                mode = .structOrArray
            }
        }
    }

    mutating func popResolved(id resolvedID: UInt32, size: Int) {
        let vertex = stack.removeLast()
        resolvedSizes[Int(vertex.id)] = UInt32(truncatingIfNeeded: size)
        resolvedIDs[Int(vertex.id)] = resolvedID
        visitStates[Int(vertex.id)] = .resolved
    }

    /// `btf_resolve`: resolves `id` and everything it needs.
    mutating func resolve(_ id: UInt32) throws(BTFError) {
        root = id
        mode = .undecided
        // The stack is empty: the previous resolve ran until it was, or threw, which ends the checks.
        try push(id)
        // Each step pushes a type never visited before, pops one, or throws: at most 2n steps.
        while let vertex = stack.last {
            try step(vertex)
        }
        guard isResolveValid(id) else { throw BTFError(.type(id), .invalidResolveState) }
    }

    mutating func step(_ vertex: Vertex) throws(BTFError) {
        let id = vertex.id
        switch code(id) {
        case .typedef, .volatile, .const, .restrict, .typeTag:
            try resolveModifier(vertex, next: field(id))
        case .pointer:
            try resolvePointer(vertex, next: field(id))
        case .array:
            try resolveArray(vertex, element: records.dataWord(id, 0), index: records.dataWord(id, 1),
                             count: Int(records.dataWord(id, 2)))
        case .structure, .union:
            try resolveAggregate(vertex, size: Int(field(id)), memberCount: records.vlen(id))
        case .variable:
            try resolveVariable(vertex, next: field(id), isExtern: isExternVariable(id))
        case .dataSection:
            try resolveDataSection(vertex, entryCount: records.vlen(id))
        case .function:
            try checkFunction(id, proto: field(id), isExtern: isExternFunction(id))
            popResolved(id: field(id), size: 0)
        case .declTag:
            try resolveDeclTag(vertex, next: field(id), componentIndex: Int(Int32(bitPattern: records.dataWord(id, 0))))
        default:
            // Only types that need resolving are ever pushed.
            throw BTFError(.type(vertex.id), .invalidResolveState)
        }
    }

    /// `btf_modifier_resolve`.
    mutating func resolveModifier(_ vertex: Vertex, next: UInt32) throws(BTFError) {
        if isResolveSourceOnly(next) {
            throw BTFError(.type(vertex.id), .invalidReference(what: "referenced type", id: next, kind: kindName(next)))
        }
        if !isSink(next) && !isResolved(next) { return try push(next) }
        let target = try endOfReference(vertex.id, next: next)
        popResolved(id: target, size: 0)
    }

    /// The tail shared by modifiers and pointers: the sized type `next` stands for, or the void,
    /// FWD or FUNC_PROTO it ends at (anything else is an error).
    func endOfReference(_ id: UInt32, next: UInt32) throws(BTFError) -> UInt32 {
        if let sized = sizedType(next) { return sized.id }
        let end = isResolved(next) ? resolvedIDs[Int(next)] : next
        guard end == 0 || isForward(end) || isFunctionProto(end) else {
            throw BTFError(.type(id), .invalidReference(what: "referenced type", id: end, kind: kindName(end)))
        }
        return end
    }

    /// `btf_ptr_resolve`.
    mutating func resolvePointer(_ vertex: Vertex, next: UInt32) throws(BTFError) {
        if isResolveSourceOnly(next) {
            throw BTFError(.type(vertex.id), .invalidReference(what: "pointee", id: next, kind: kindName(next)))
        }
        if !isSink(next) && !isResolved(next) { return try push(next) }
        if isModifier(next) {
            let resolved = resolvedIDs[Int(next)]
            if isPointer(resolved) && !isSink(resolved) && !isResolved(resolved) { return try push(resolved) }
        }
        let target = try endOfReference(vertex.id, next: next)
        popResolved(id: target, size: 0)
    }

    /// `btf_array_resolve`.
    mutating func resolveArray(_ vertex: Vertex, element: UInt32, index: UInt32, count: Int) throws(BTFError) {
        let id = vertex.id
        if hasNoSize(index) || isResolveSourceOnly(index) { throw BTFError(.type(id), .invalidArrayIndexType(index)) }
        if !isSink(index) && !isResolved(index) { return try push(index) }
        guard let sizedIndex = sizedType(index), isRegularInt(sizedIndex.id) else {
            throw BTFError(.type(id), .invalidArrayIndexType(index))
        }
        if hasNoSize(element) || isResolveSourceOnly(element) {
            throw BTFError(.type(id), .invalidReference(what: "array element", id: element, kind: kindName(element)))
        }
        if !isSink(element) && !isResolved(element) { return try push(element) }
        guard let sizedElement = sizedType(element) else { throw BTFError(.type(id), .unsizedType(element)) }
        if code(sizedElement.id) == .int, !isRegularInt(sizedElement.id) {
            throw BTFError(.type(id), .arrayOfIrregularInt)
        }
        if count != 0 && sizedElement.size > Int(UInt32.max) / count { throw BTFError(.type(id), .arraySizeOverflow) }
        popResolved(id: sizedElement.id, size: sizedElement.size * count)
    }

    /// `btf_struct_resolve`: members one by one, each checked against the struct once resolved.
    mutating func resolveAggregate(_ vertex: Vertex, size: Int, memberCount: Int) throws(BTFError) {
        let id = vertex.id
        let kindFlag = records.header(id).kindFlag
        if vertex.nextMember > 0 {
            let index = vertex.nextMember - 1
            let member = records.member(id, index)
            try checkMember(structID: id, structSize: size, kindFlag: kindFlag, member: member, index: index,
                            memberType: member.type)
        }
        var index = vertex.nextMember
        while index < memberCount {
            let member = records.member(id, index)
            if hasNoSize(member.type) || isResolveSourceOnly(member.type) {
                throw BTFError(.component(type: id, index: index),
                               .invalidReference(what: "member type", id: member.type, kind: kindName(member.type)))
            }
            if !isSink(member.type) && !isResolved(member.type) {
                stack[stack.count - 1].nextMember = index + 1
                return try push(member.type)
            }
            try checkMember(structID: id, structSize: size, kindFlag: kindFlag, member: member, index: index,
                            memberType: member.type)
            index += 1
        }
        popResolved(id: 0, size: 0)
    }

    /// `btf_var_resolve`; an extern variable may end at void, FWD or FUNC_PROTO like a modifier.
    mutating func resolveVariable(_ vertex: Vertex, next: UInt32, isExtern: Bool) throws(BTFError) {
        if isResolveSourceOnly(next) {
            throw BTFError(.type(vertex.id), .invalidReference(what: "variable type", id: next, kind: kindName(next)))
        }
        if !isSink(next) && !isResolved(next) { return try push(next) }
        if isModifier(next) {
            let resolved = resolvedIDs[Int(next)]
            if isPointer(resolved) && !isSink(resolved) && !isResolved(resolved) { return try push(resolved) }
        }
        if isExtern {
            popResolved(id: try endOfReference(vertex.id, next: next), size: 0)
            return
        }
        guard let sized = sizedType(next) else { throw BTFError(.type(vertex.id), .unsizedType(next)) }
        popResolved(id: sized.id, size: 0)
    }

    /// `btf_datasec_resolve`; extern FUNCs (`.ksyms`) and extern VARs are accepted as entries.
    mutating func resolveDataSection(_ vertex: Vertex, entryCount: Int) throws(BTFError) {
        mode = .undecided
        var index = vertex.nextMember
        while index < entryCount {
            let entry = records.entry(vertex.id, index)
            let location = BTFError.Location.component(type: vertex.id, index: index)
            let isExtern: Bool
            switch code(entry.type) {
            case .variable: isExtern = isExternVariable(entry.type)
            case .function where isExternFunction(entry.type): isExtern = true
            default:
                throw BTFError(location, .invalidReference(what: "DATASEC entry", id: entry.type, kind: kindName(entry.type)))
            }
            if !isSink(entry.type) && !isResolved(entry.type) {
                stack[stack.count - 1].nextMember = index + 1
                return try push(entry.type)
            }
            if !isExtern && code(entry.type) == .variable {
                let type = field(entry.type)
                guard let sized = sizedType(type) else { throw BTFError(location, .unsizedType(type)) }
                guard entry.size >= sized.size else {
                    throw BTFError(location, .sectionEntryTooSmall(size: entry.size, typeSize: sized.size))
                }
            }
            index += 1
        }
        popResolved(id: 0, size: 0)
    }

    /// `btf_decl_tag_resolve`.
    mutating func resolveDeclTag(_ vertex: Vertex, next: UInt32, componentIndex: Int) throws(BTFError) {
        let id = vertex.id
        switch code(next) {
        case .function, .structure, .union, .variable, .typedef: break
        default: throw BTFError(.type(id), .invalidReference(what: "tagged type", id: next, kind: kindName(next)))
        }
        if !isSink(next) && !isResolved(next) { return try push(next) }
        if componentIndex != -1 {
            let count: Int
            switch code(next) {
            case .structure, .union:
                count = records.vlen(next)
            case .function where code(field(next)) == .functionProto:
                count = records.vlen(field(next))
            default:
                count = 0
            }
            guard componentIndex < count else { throw BTFError(.type(id), .invalidComponentIndex(componentIndex)) }
        }
        popResolved(id: next, size: 0)
    }

    /// `btf_resolve_valid`: the final consistency check of a resolved type.
    func isResolveValid(_ id: UInt32) -> Bool {
        guard isResolved(id) else { return false }
        let resolvedID = resolvedIDs[Int(id)], resolvedSize = Int(resolvedSizes[Int(id)])
        switch code(id) {
        case .structure, .union, .dataSection:
            return resolvedID == 0 && resolvedSize == 0
        case .declTag, .function:
            return resolvedID != 0 && resolvedSize == 0
        case .typedef, .volatile, .const, .restrict, .typeTag, .pointer, .variable:
            return !isModifier(resolvedID) && !isVariable(resolvedID) && !isDataSection(resolvedID)
        case .array:
            let element = records.dataWord(id, 0), count = Int(records.dataWord(id, 2))
            guard let sized = sizedType(element), !isModifier(sized.id) else { return false }
            let (product, overflow) = count.multipliedReportingOverflow(by: sized.size)
            return !overflow && product == resolvedSize
        default:
            return false
        }
    }

    func isDataSection(_ id: UInt32) -> Bool { code(id) == .dataSection }

    /// Whether VAR `id` is an extern (linkage 2).
    func isExternVariable(_ id: UInt32) -> Bool { records.dataWord(id, 0) == BTFVariableLinkage.external.rawValue }

    /// Whether FUNC `id` is an extern (linkage 2, in its `vlen`).
    func isExternFunction(_ id: UInt32) -> Bool { records.vlen(id) == Int(BTFFunctionLinkage.external.rawValue) }

    func kindName(_ id: UInt32) -> String { code(id).name }
}
