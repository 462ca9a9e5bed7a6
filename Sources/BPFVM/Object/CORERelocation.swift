/// CO-RE (compile once, run everywhere) relocations: an instruction compiled against the object's
/// own ("local") BTF is rewritten with the value the same access has in the target BTF, as
/// libbpf's `bpf_core_calc_relo` does.
extension Linker.Session {
    /// Applies the CO-RE records of every linked function. Without a target BTF the compiled-in
    /// local values already are the answer, so nothing changes.
    mutating func applyCORE(btf: BTF, ext: BTFExt) throws(ObjectError) {
        guard let target = targetBTF else { return }
        for function in order {
            let section = object.elf.sections[function.sectionIndex].name
            for record in ext.coreRelocations[section] ?? [] {
                let slot = record.instructionOffset / 8
                guard record.instructionOffset % 8 == 0, slot >= function.start, slot < function.start + function.count
                else { continue }
                let linked = placed[function.key]! + slot - function.start
                let value: Int64
                do {
                    value = try CORE.value(of: record, local: btf, target: target)
                } catch {
                    throw .core(program: entry.name, instruction: linked, reason: error.reason)
                }
                try patch(linked, with: value, kind: record.kind)
            }
        }
    }

    /// Writes a relocated value into the instruction at `index`: the immediate of an ALU or `lddw`
    /// instruction, or the offset of a load or store.
    mutating func patch(_ index: Int, with value: Int64, kind: BTFCoreRelocationKind) throws(ObjectError) {
        let insn = output[index]
        switch insn.instructionClass {
        case .alu, .alu64:
            guard insn.opcode & Opcode.sourceRegister == 0, let imm = Int32(exactly: value) else {
                throw .core(program: entry.name, instruction: index, reason: "value \(value) does not fit the ALU immediate")
            }
            output[index].imm = imm
        case .ldx, .st, .stx:
            guard let offset = Int16(exactly: value) else {
                throw .core(program: entry.name, instruction: index, reason: "offset \(value) does not fit 16 bits")
            }
            output[index].offset = offset
        case .ld where insn.opcode == Opcode.lddw:
            // As libbpf, only a plain constant: a map, global or function reference the linker resolved
            // must not be overwritten (the binder and the interpreter follow its immediate).
            guard insn.src == 0, index + 1 < output.count else {
                throw .core(program: entry.name, instruction: index,
                            reason: "a \(kind.objdumpTag) relocation on an lddw that is not a plain 64-bit constant"
                                + (insn.src == 0 ? " (its second slot is missing)" : " (src \(insn.src))"))
            }
            output[index].imm = Int32(truncatingIfNeeded: value)
            output[index + 1].imm = Int32(truncatingIfNeeded: value >> 32)
        default:
            throw .core(program: entry.name, instruction: index,
                        reason: "cannot patch opcode 0x\(hex(insn.opcode, width: 2)) for a \(kind.objdumpTag) relocation")
        }
    }
}

/// The computation of CO-RE values: resolving an access string in the local BTF and finding the
/// same access in the target BTF by names.
enum CORE {
    struct Failure: Error {
        let reason: String
    }

    /// One step of an access path: a member (by name) or an array subscript.
    enum Step {
        case member(name: String, index: Int)
        case element(Int)
    }

    /// Where an access path ends: its type, bit offset from the root and, for a bitfield, its width.
    struct Resolved {
        var typeID: UInt32
        var bitOffset: Int
        var bitfieldSize: Int
    }

    static func value(of record: BTFCoreRelocation, local: BTF, target: BTF) throws(Failure) -> Int64 {
        // libbpf reads each index as a non-negative C int.
        let indices = record.accessString.split(separator: ":", omittingEmptySubsequences: false).map {
            Int32($0).map(Int.init) ?? -1
        }
        guard !indices.isEmpty, !indices.contains(where: { $0 < 0 }) else {
            throw Failure(reason: "malformed access string '\(record.accessString)'")
        }
        guard let root = local.type(record.typeID) else { throw Failure(reason: "local type \(record.typeID) does not exist") }
        let rootName = essentialName(root.name)
        let candidates = target.types.filter { essentialName($0.name) == rootName && sameKind($0, root, local, target) }
        switch record.kind {
        case .typeIDLocal:
            return Int64(record.typeID)
        case .typeIDTarget:
            return Int64(candidates.first?.id ?? 0)
        case .typeExists, .typeMatches:
            return candidates.isEmpty ? 0 : 1
        case .typeSize:
            guard let candidate = candidates.first, let size = target.resolvedSize(of: candidate.id) else {
                throw Failure(reason: "type '\(root.name)' does not exist in the target BTF")
            }
            return Int64(size)
        case .enumValueExists, .enumValueValue:
            guard indices.count == 1, let name = enumeratorName(local, record.typeID, indices[0]) else {
                throw Failure(reason: "enumerator #\(indices[0]) of type \(record.typeID) does not exist locally")
            }
            for candidate in candidates {
                if let value = enumeratorValue(target, candidate.id, named: name) {
                    return record.kind == .enumValueExists ? 1 : value
                }
            }
            if record.kind == .enumValueExists { return 0 }
            throw Failure(reason: "enumerator '\(name)' does not exist in the target BTF")
        case .fieldByteOffset, .fieldByteSize, .fieldExists, .fieldSigned, .fieldLShiftU64, .fieldRShiftU64:
            let steps = try path(local, root: record.typeID, indices: indices)
            var found: (BTF, Resolved)?
            for candidate in candidates {
                if let resolved = resolve(target, root: candidate.id, first: indices[0], steps: steps) {
                    found = (target, resolved)
                    break
                }
            }
            guard let (btf, resolved) = found else {
                if record.kind == .fieldExists { return 0 }
                throw Failure(reason: "field \(record.accessString) of '\(root.name)' does not exist in the target BTF")
            }
            return try fieldValue(record.kind, btf, resolved)
        }
    }

    /// A name without libbpf's `___flavour` suffix.
    static func essentialName(_ name: String) -> Substring {
        guard let range = name.firstRange(of: "___") else { return Substring(name) }
        return name[..<range.lowerBound]
    }

    static func sameKind(_ a: BTFType, _ b: BTFType, _ btfA: BTF, _ btfB: BTF) -> Bool {
        func category(_ kind: BTFKind) -> Int {
            switch kind {
            case .structure: 1
            case .union: 2
            case .enumeration, .enumeration64: 3
            case .int: 4
            case .typedef: 5
            case .functionProto: 6
            case .float: 7
            default: 0
            }
        }
        let ca = category(a.kind)
        return ca != 0 && ca == category(b.kind) && !a.name.isEmpty
    }

    /// The local access path of `indices` (after the first, which indexes the root pointer).
    static func path(_ btf: BTF, root: UInt32, indices: [Int]) throws(Failure) -> [Step] {
        var steps: [Step] = []
        var current = btf.skippingModifiersAndTypedefs(root)
        for index in indices.dropFirst() {
            guard let type = btf.type(current) else { throw Failure(reason: "type \(current) does not exist locally") }
            switch type.kind {
            case .structure(_, let members), .union(_, let members):
                guard index < members.count else { throw Failure(reason: "member #\(index) of '\(type.name)' does not exist locally") }
                steps.append(.member(name: members[index].name, index: index))
                current = btf.skippingModifiersAndTypedefs(members[index].type)
            case .array(let element, _, _):
                steps.append(.element(index))
                current = btf.skippingModifiersAndTypedefs(element)
            default:
                throw Failure(reason: "access step \(index) into '\(type.name)', which is neither a struct, union nor array")
            }
        }
        return steps
    }

    /// The same access path in `btf` from `root`, matching members by name (looking through
    /// anonymous members), or nil if the target lacks it.
    static func resolve(_ btf: BTF, root: UInt32, first: Int, steps: [Step]) -> Resolved? {
        var current = btf.skippingModifiersAndTypedefs(root)
        guard let rootSize = btf.resolvedSize(of: current), let rootOffset = bits(first, times: rootSize) else {
            return nil
        }
        var resolved = Resolved(typeID: current, bitOffset: rootOffset, bitfieldSize: 0)
        for step in steps {
            guard let type = btf.type(current) else { return nil }
            switch (step, type.kind) {
            case (.member(let name, _), .structure(_, let members)), (.member(let name, _), .union(_, let members)):
                guard let (member, offset) = findMember(btf, members, named: name),
                      let sum = add(resolved.bitOffset, offset) else { return nil }
                resolved.bitOffset = sum
                resolved.bitfieldSize = member.bitfieldSize
                current = btf.skippingModifiersAndTypedefs(member.type)
            case (.element(let index), .array(let element, _, let count)):
                guard count == 0 || index < count, let size = btf.resolvedSize(of: element),
                      let offset = bits(index, times: size), let sum = add(resolved.bitOffset, offset) else { return nil }
                resolved.bitOffset = sum
                resolved.bitfieldSize = 0
                current = btf.skippingModifiersAndTypedefs(element)
            default:
                return nil
            }
            resolved.typeID = current
        }
        return resolved
    }

    /// `count × size × 8` (bits), or nil when it overflows.
    static func bits(_ count: Int, times size: Int) -> Int? {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, bytes <= Int.max / 8 else { return nil }
        return bytes * 8
    }

    static func add(_ a: Int, _ b: Int) -> Int? {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : sum
    }

    /// A member by name, searching anonymous struct/union members too; returns it with its bit offset.
    static func findMember(_ btf: BTF, _ members: BTFComponents<BTFMember>, named name: String) -> (BTFMember, Int)? {
        for member in members {
            if member.name == name && !name.isEmpty { return (member, member.bitOffset) }
        }
        for member in members where member.name.isEmpty {
            guard let type = btf.type(btf.skippingModifiersAndTypedefs(member.type)) else { continue }
            switch type.kind {
            case .structure(_, let inner), .union(_, let inner):
                if let (found, offset) = findMember(btf, inner, named: name), let sum = add(member.bitOffset, offset) {
                    return (found, sum)
                }
            default:
                continue
            }
        }
        return nil
    }

    static func fieldValue(_ kind: BTFCoreRelocationKind, _ btf: BTF, _ field: Resolved) throws(Failure) -> Int64 {
        guard let size = btf.resolvedSize(of: field.typeID), size > 0 else {
            throw Failure(reason: "field type has no size")
        }
        let isBitfield = field.bitfieldSize > 0
        // For a bitfield, the load is of the field type's size, aligned down to it.
        let byteOffset = isBitfield ? (field.bitOffset / 8) / size * size : field.bitOffset / 8
        switch kind {
        case .fieldByteOffset: return Int64(byteOffset)
        case .fieldByteSize: return Int64(size)
        case .fieldExists: return 1
        case .fieldSigned:
            switch btf.type(field.typeID)?.kind {
            case .int(_, let encoding, _, _)?: return encoding.isSigned ? 1 : 0
            case .enumeration(_, let isSigned, _)?, .enumeration64(_, let isSigned, _)?: return isSigned ? 1 : 0
            default: return 0
            }
        case .fieldLShiftU64, .fieldRShiftU64:
            guard let width = isBitfield ? field.bitfieldSize : bits(1, times: size) else {
                throw Failure(reason: "field of \(size) bytes is too large to shift")
            }
            if kind == .fieldRShiftU64 { return Int64(64 - width) }
            let bitsInLoad = field.bitOffset - byteOffset * 8
            return Int64(64 - (bitsInLoad + width))
        default:
            throw Failure(reason: "not a field relocation")
        }
    }

    static func enumeratorName(_ btf: BTF, _ id: UInt32, _ index: Int) -> String? {
        switch btf.type(btf.skippingModifiersAndTypedefs(id))?.kind {
        case .enumeration(_, _, let values)?: index < values.count ? values[index].name : nil
        case .enumeration64(_, _, let values)?: index < values.count ? values[index].name : nil
        default: nil
        }
    }

    static func enumeratorValue(_ btf: BTF, _ id: UInt32, named name: String) -> Int64? {
        switch btf.type(btf.skippingModifiersAndTypedefs(id))?.kind {
        case .enumeration(_, _, let values)?: values.first(where: { $0.name == name }).map { Int64($0.value) }
        case .enumeration64(_, _, let values)?: values.first(where: { $0.name == name }).map { Int64($0.value) }
        default: nil
        }
    }
}
