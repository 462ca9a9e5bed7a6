import BPFVM

/// What an instruction does to the memory it addresses.
enum MemoryAccess: Equatable {
    case read
    /// A store of `value` (`immediate` for `ST`).
    case write(Value, immediate: Bool)
    /// A read-modify-write.
    case atomic

    var writes: Bool { if case .read = self { false } else { true } }
    var reads: Bool { if case .write = self { false } else { true } }
}

extension Analyzer {
    /// Checks one load, store or atomic of `size` bytes at `base + offset` and applies it to the
    /// state; returns the loaded value (for reads). Every instruction form that touches memory
    /// goes through here: the one place the access rules live.
    func access(_ base: Value, register: Int, offset: Int64, size: Int, _ kind: MemoryAccess,
                _ state: inout AbstractState, at pc: Int) throws(VerifierError) -> Value
    {
        guard let pointer = base.pointerKind else {
            throw VerifierError(.invalidMemoryAccess(register: register, type: base.typeName), at: pc)
        }
        if base.maybeNull {
            throw VerifierError(.invalidMemoryAccess(register: register, type: base.typeName), at: pc)
        }
        if case .write(let value, _) = kind, !value.isScalar, !pointer.isStack {
            // Pointers may be spilled to the stack only, never leaked into memory others read.
            throw VerifierError(.pointerLeak(register: register, into: "into \(base.typeName) memory"), at: pc)
        }
        // Atomics may not touch the context of a kind with a kernel-defined layout, nor packets.
        if kind == .atomic {
            let forbidden: String? = switch pointer {
            case .context: if case .memory = environment.context { nil } else { "ctx" }
            case .packet, .packetMeta: "pkt"
            default: nil
            }
            if let forbidden {
                throw VerifierError(.invalidStore("BPF_ATOMIC stores into R\(register) \(forbidden) is not allowed"), at: pc)
            }
        }
        // The stack is always accessed aligned (spill tracking relies on it), atomics everywhere.
        if pointer.isStack || kind == .atomic {
            try checkAlignment(base, pointer, offset: offset, size: size, at: pc)
        }
        switch pointer {
        case .stack(let frame):
            return try stackAccess(base, frame: frame, register: register, offset: offset, size: size, kind, &state, at: pc)
        case .context:
            return try contextAccess(base, register: register, offset: offset, size: size, kind, &state, at: pc)
        case .mapValue(let map):
            let definition = maps[map]
            if kind.writes && definition.flags & Self.readOnlyProgramFlag != 0 {
                throw VerifierError(.readOnlyAccess("write into map forbidden, value_size=\(definition.valueSize) off=\(base.offset + offset) size=\(size)"), at: pc)
            }
            try checkRegion(base, register: register, offset: offset, size: size, regionSize: Int64(definition.valueSize),
                            at: pc) { start, _ in
                .mapValueAccess(valueSize: definition.valueSize, offset: start, size: size)
            }
            return .scalar(.unsigned(bytes: size))
        case .memory(let regionSize):
            try checkRegion(base, register: register, offset: offset, size: size, regionSize: regionSize, at: pc) {
                start, _ in .memoryAccess(kind: "memory", size: regionSize, offset: start, accessSize: size)
            }
            return .scalar(.unsigned(bytes: size))
        case .packet, .packetMeta:
            let start = base.offset + offset
            let fits = base.scalar.b64.smin >= 0 && start >= 0
                && start + Int64(size) <= base.range && base.scalar.b64.umax < UInt64(Self.maximumOffset)
            guard fits else {
                throw VerifierError(.packetAccess(offset: start, size: size, register: register,
                                                  pointer: "id=\(base.id),off=\(base.offset),r=\(base.range)"), at: pc)
            }
            return .scalar(.unsigned(bytes: size))
        case .host(let type):
            return try hostAccess(base, type: type, register: register, offset: offset, size: size, kind, at: pc)
        case .map, .packetEnd, .function:
            throw VerifierError(.invalidMemoryAccess(register: register, type: base.typeName), at: pc)
        }
    }

    /// Checks that every address `base + offset` may be is a multiple of `size`.
    private func checkAlignment(_ base: Value, _ pointer: PointerKind, offset: Int64, size: Int, at pc: Int)
        throws(VerifierError)
    {
        let mask = UInt64(size - 1)
        let fixed = UInt64(bitPattern: base.offset &+ offset)
        guard (base.scalar.tnum.value &+ fixed) & mask != 0 || base.scalar.tnum.mask & mask != 0 else { return }
        let object = switch pointer {
        case .stack: "stack "
        case .mapValue: "value "
        case .context: "context "
        case .packet, .packetMeta: "packet "
        default: ""
        }
        let variable = base.scalar.constantValue.map { String(Int64(bitPattern: $0)) } ?? base.scalar.tnumText
        throw VerifierError(.misalignedAccess(object: object, variable: variable, pointerOffset: base.offset,
                                              offset: offset, size: size), at: pc)
    }

    /// `BPF_F_RDONLY_PROG`: the program may only read the map's values.
    static let readOnlyProgramFlag: UInt32 = 1 << 7

    /// Checks that `[offset + var, offset + var + size)` lies in `[0, regionSize)` for every
    /// value of the pointer's variable part.
    func checkRegion(_ base: Value, register: Int, offset: Int64, size: Int, regionSize: Int64, at pc: Int,
                     outside: (_ start: Int64, _ end: Int64) -> VerifierError.Reason) throws(VerifierError)
    {
        let variable = base.scalar.b64
        if variable.smin < 0 { throw VerifierError(.negativeMinimum(register: register), at: pc) }
        if variable.umax >= UInt64(Self.maximumOffset) { throw VerifierError(.unboundedAccess(register: register), at: pc) }
        let low = base.offset + offset + variable.smin
        let high = base.offset + offset + Int64(variable.umax)
        if low < 0 {
            if base.scalar.isConstant { throw VerifierError(outside(low, low + Int64(size)), at: pc) }
            throw VerifierError(.minValueOutOfRange(register: register), at: pc)
        }
        if high + Int64(size) > regionSize {
            throw VerifierError(outside(high, high + Int64(size)), at: pc)
        }
    }

    // MARK: - Stack

    private func stackAccess(_ base: Value, frame: Int, register: Int, offset: Int64, size: Int, _ kind: MemoryAccess,
                             _ state: inout AbstractState, at pc: Int) throws(VerifierError) -> Value
    {
        let fixed = base.offset + offset
        let variable = base.scalar.b64
        let frameSize = Int64(Interpreter.stackFrameSize)
        if base.scalar.isConstant {
            let start = fixed + Int64(bitPattern: base.scalar.constantValue!)
            guard start >= -frameSize, start + Int64(size) <= 0 else {
                throw VerifierError(.stackAccess(write: !kind.reads, register: register, variable: nil, offset: start,
                                                 size: size), at: pc)
            }
            noteStackDepth(frame: frame, offset: start, state: state)
            return try fixedStackAccess(frame: frame, start: Int(start + frameSize), size: size, kind, &state, at: pc)
        }
        // A variable offset: every byte it may touch must be inside the frame.
        guard variable.smin > -frameSize * 2, variable.smax < frameSize * 2 else {
            throw VerifierError(.variableStackAccess(register: register, detail: "is unbounded: var_off=\(base.scalar.tnumText)"), at: pc)
        }
        let low = fixed + variable.smin, high = fixed + variable.smax + Int64(size)
        guard low >= -frameSize, high <= 0 else {
            throw VerifierError(.stackAccess(write: !kind.reads, register: register, variable: base.scalar.tnumText,
                                             offset: fixed, size: size), at: pc)
        }
        noteStackDepth(frame: frame, offset: low, state: state)
        let first = Int(low + frameSize), last = Int(high + frameSize)
        if kind.writes {
            if case .write(let value, _) = kind, !value.isScalar {
                throw VerifierError(.invalidStore("R\(register) variable-offset spill of a pointer"), at: pc)
            }
            for byte in first..<last {
                state.frames[frame].stack[byte / 8].write(.misc, from: byte % 8, count: 1)
            }
            return .uninitialized
        }
        return .scalar(.unsigned(bytes: size))
    }

    private func noteStackDepth(frame: Int, offset: Int64, state: AbstractState) {
        let function = structure.functionOfSlot[state.frames[frame].function]
        stackDepth[function] = max(stackDepth[function], Int(-offset))
    }

    private func fixedStackAccess(frame: Int, start: Int, size: Int, _ kind: MemoryAccess,
                                  _ state: inout AbstractState, at pc: Int) throws(VerifierError) -> Value
    {
        let slotIndex = start / 8, byte = start % 8
        let slot = state.frames[frame].stack[slotIndex]
        stackAddress = StackAddress(frame: frame, slot: slotIndex, byte: byte)
        switch kind {
        case .write(let value, let immediate):
            if size == 8 && (value.isScalar || !immediate) {
                state.frames[frame].stack[slotIndex] = .spill(value)
            } else {
                guard value.isScalar else {
                    throw VerifierError(.invalidStore("invalid size of register spill"), at: pc)
                }
                if byte == 0 {
                    // A number stored at the slot's start keeps its bounds (a sub-register spill).
                    state.frames[frame].stack[slotIndex].spill(value.scalar, size: size)
                } else {
                    state.frames[frame].stack[slotIndex].write(value.isZero ? .zero : .misc, from: byte, count: size)
                }
            }
            return .uninitialized
        case .atomic:
            if let spilled = slot.spilled, !spilled.isScalar {
                throw VerifierError(.invalidStore("atomic operation on a spilled pointer"), at: pc)
            }
            state.frames[frame].stack[slotIndex].write(.misc, from: byte, count: size)
            return .uninitialized
        case .read:
            let spillSize = slot.spillSize
            if let spilled = slot.spilled, byte < spillSize {
                if size == 8 && spillSize == 8 { return spilled }
                guard spilled.isScalar else { throw VerifierError(.invalidRegisterFill, at: pc) }
                if byte + size <= spillSize {
                    if let constant = spilled.scalar.constantValue {
                        return .scalar(Scalar.constant(constant >> UInt64(8 * byte)).truncated(toBytes: size))
                    }
                    if byte == 0 { return .scalar(spilled.scalar.truncated(toBytes: size)) }
                }
            }
            if slot.isZero(from: byte, count: size) { return .constant(0) }
            return .scalar(.unsigned(bytes: size))
        }
    }

    /// Marks `count` bytes of stack from `start` (bytes from the frame's base) as written by a helper.
    func clobberStack(frame: Int, start: Int, count: Int, _ state: inout AbstractState) {
        for byte in start..<(start + count) {
            state.frames[frame].stack[byte / 8].write(.misc, from: byte % 8, count: 1)
        }
    }

    // MARK: - Context

    private func contextAccess(_ base: Value, register: Int, offset: Int64, size: Int, _ kind: MemoryAccess,
                               _ state: inout AbstractState, at pc: Int) throws(VerifierError) -> Value
    {
        if case .memory(let contextSize, _) = environment.context {
            try checkRegion(base, register: register, offset: offset, size: size, regionSize: Int64(contextSize),
                            at: pc) { start, _ in .invalidContextAccess(offset: start, size: size) }
            return .scalar(.unsigned(bytes: size))
        }
        guard base.scalar.isConstant else { throw VerifierError(.variableContextAccess(base.scalar.tnumText), at: pc) }
        guard base.offset == 0 else {
            throw VerifierError(.modifiedContext(register: register, offset: base.offset), at: pc)
        }
        switch environment.context {
        case .memory:
            fatalError("handled above")
        case .xdp:
            guard !kind.writes, size == 4, offset >= 0, offset % 4 == 0,
                  offset < Int64(ContextLayout.xdpReadableSize) else {
                throw VerifierError(.invalidContextAccess(offset: offset, size: size), at: pc)
            }
            switch offset {
            case 0: return Value(type: .pointer(.packet), id: state.freshID())
            case 4: return .pointer(.packetEnd)
            case 8: return Value(type: .pointer(.packetMeta), id: state.freshID())
            default: return .scalar(.unsigned(bytes: 4))
            }
        case .hookArguments(let hook):
            // tracing_prog_is_valid_access: read-only, within MAX_BPF_FUNC_ARGS (12) slots.
            guard !kind.writes, offset >= 0, offset < 12 * 8 else {
                throw VerifierError(.invalidContextAccess(offset: offset, size: size), at: pc)
            }
            guard offset % 8 == 0 else {
                throw VerifierError(.hookArgumentAlignment(function: hook.name, offset: offset), at: pc)
            }
            let slot = offset / 8
            let slots = Int64(hook.parameters.count) + (environment.hasReturnSlot ? 1 : 0)
            guard slot < slots else {
                throw VerifierError(.hookArgumentMissing(function: hook.name, index: slot), at: pc)
            }
            if let pointee = hook.pointee(ofSlot: Int(slot)) {
                guard size == 8 else { throw VerifierError(.hookPointerSize(function: hook.name, size: size), at: pc) }
                return .pointer(.host(typeID: pointee))
            }
            if size == 8 { return .scalar(Verifier.slotRange(hook, slot: Int(slot), kind: environment.kind)) }
            return .scalar(.unsigned(bytes: size))
        }
    }

    // MARK: - Host structures

    private func hostAccess(_ base: Value, type: UInt32, register: Int, offset: Int64, size: Int,
                            _ kind: MemoryAccess, at pc: Int) throws(VerifierError) -> Value
    {
        guard case .hookArguments(let hook) = environment.context else {
            throw VerifierError(.invalidMemoryAccess(register: register, type: base.typeName), at: pc)
        }
        let btf = hook.btf
        let name = btf.type(type)?.name ?? "?"
        if kind.writes {
            throw VerifierError(.readOnlyAccess("only read is supported: R\(register) points to host struct \(name)"), at: pc)
        }
        guard let variable = base.scalar.constantValue else {
            throw VerifierError(.readOnlyAccess("R\(register) is ptr_\(name) invalid variable offset: off=\(base.offset), var_off=\(base.scalar.tnumText)"), at: pc)
        }
        let start = base.offset + Int64(bitPattern: variable) + offset
        guard start >= 0 else {
            throw VerifierError(.readOnlyAccess("R\(register) is ptr_\(name) invalid negative access: off=\(start)"), at: pc)
        }
        guard let structSize = btf.resolvedSize(of: type), start + Int64(size) <= Int64(structSize) else {
            throw VerifierError(.hookStructAccess(type: name, offset: start, size: size), at: pc)
        }
        hostLoads.insert(pc)
        // A whole pointer member loads as a pointer to its struct.
        if size == 8, let member = btf.members(of: type).first(where: { Int64($0.bitOffset) == start * 8 }),
           case .pointer(let target)? = btf.type(btf.skippingModifiersAndTypedefs(member.type))?.kind
        {
            let pointee = btf.skippingModifiersAndTypedefs(target)
            if btf.resolvedSize(of: pointee) != nil, case .structure? = btf.type(pointee)?.kind.code.asStructure {
                return .pointer(.host(typeID: pointee))
            }
        }
        return .scalar(.unsigned(bytes: size))
    }
}

private extension BTFKind.Code {
    var asStructure: BTFKind.Code? { self == .structure || self == .union ? .structure : nil }
}
