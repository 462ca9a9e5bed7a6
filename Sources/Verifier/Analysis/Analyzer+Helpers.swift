import BPFVM

extension Analyzer {
    /// Checks a helper call's arguments against the helper's prototype and applies its effects.
    func helperCall(_ id: Int32, _ state: inout AbstractState, forks: inout [AbstractState], at pc: Int)
        throws(VerifierError) -> Bool
    {
        guard let helper = environment.helpers[id] else {
            // A call the loader poisoned (an unresolved CO-RE relocation or weak kfunc) fails where a path reaches it.
            let poisoned = program.metadata.poisonReason(at: pc).map { VerifierError.Reason.poisonedCall(id, $0) }
            throw VerifierError(poisoned ?? .unknownHelper(id), at: pc)
        }
        var map: Int? = nil
        var memory: (register: Int, value: Value, writes: Bool)? = nil
        var released: UInt32? = nil
        var callback: Int? = nil
        var key: Value? = nil
        for (index, argument) in helper.arguments.enumerated() {
            let register = index + 1
            let value = try read(Register(rawValue: UInt8(register))!, state, at: pc)
            func expect(_ expected: String) -> VerifierError {
                VerifierError(.argumentType(register: register, actual: value.typeName, expected: expected), at: pc)
            }
            switch argument {
            case .anything:
                break
            case .scalar:
                guard value.isScalar else { throw expect("scalar") }
            case .mapPointer:
                guard case .map(let index)? = value.pointerKind, !value.maybeNull else { throw expect("map_ptr") }
                let mapType = maps[index].type.rawValue
                if helper.operation == .tailCall && maps[index].type != .programArray {
                    throw VerifierError(.invalidStore("expected prog array map for tail call"), at: pc)
                }
                guard MapCompatibility.allows(helper: id, mapType: mapType) else {
                    throw VerifierError(.invalidStore("cannot pass map_type \(mapType) into func bpf_\(helper.name)#\(id)"), at: pc)
                }
                map = index
            case .mapKey, .mapValue, .uninitializedMapValue:
                guard let map else { throw expect("map_ptr") }
                let definition = maps[map]
                let size = argument == .mapKey ? definition.keySize : definition.valueSize
                if argument == .mapKey { key = value }
                try checkMemoryArgument(register: register, value, size: size, writes: argument == .uninitializedMapValue,
                                        &state, at: pc)
            case .readableMemory, .writableMemory:
                memory = (register, value, argument == .writableMemory)
            case .size(let allowsZero):
                guard value.isScalar else { throw expect("scalar") }
                markPrecise(Register(rawValue: UInt8(register))!, in: state)
                let bounds = value.scalar.b64
                if bounds.smin < 0 { throw VerifierError(.negativeMinimum(register: register), at: pc) }
                if bounds.umax >= UInt64(Self.maximumOffset) { throw VerifierError(.unboundedAccess(register: register), at: pc) }
                if !allowsZero && bounds.umin == 0 { throw VerifierError(.invalidZeroSize(register: register), at: pc) }
                guard let (memoryRegister, memoryValue, writes) = memory else { throw expect("mem") }
                if memoryValue.isScalar { markPrecise(Register(rawValue: UInt8(memoryRegister))!, in: state) }
                if bounds.umax > 0 || !memoryValue.isZero {
                    try checkMemoryArgument(register: memoryRegister, memoryValue, size: Int(bounds.umax), writes: writes,
                                            &state, at: pc)
                }
                memory = nil
            case .context:
                guard value.pointerKind == .context, value.offset == 0, value.scalar.constantValue == 0 else {
                    throw expect("ctx")
                }
            case .callback:
                guard case .function(let start)? = value.pointerKind else { throw expect("func") }
                callback = start
            case .ringBufferSample:
                guard case .memory? = value.pointerKind, !value.maybeNull else { throw expect("ringbuf_mem") }
                guard value.reference != 0, state.references[value.reference] != nil else {
                    throw VerifierError(.notReferenced(register: register), at: pc)
                }
                guard value.offset == 0, value.scalar.constantValue == 0 else {
                    throw VerifierError(.invalidStore("R\(register) must have zero offset when passed to release func"), at: pc)
                }
                released = value.reference
            case .constantString:
                try checkConstantString(register: register, value, at: pc)
            }
        }

        switch helper.operation {
        case .tailCall?:
            if !state.references.isEmpty {
                throw VerifierError(.invalidStore("tail_call would lead to reference leak"), at: pc)
            }
        case .loop?:
            try repeatCallback(callback!, CallbackFrame(returnRange: 0...1), from: pc, iteration: 0, &state, forks: &forks)
            return true
        case nil:
            break
        }

        if case .ringBufferMemoryOrNull = helper.returns { markPrecise(.r2, in: state) }
        if case .ringBufferMemoryOrNull = helper.returns, state[2].scalar.constantValue == nil || !state[2].isScalar {
            throw VerifierError(.sizeNotConstant(register: 2), at: pc)
        }
        if let released {
            state.references[released] = nil
            state.updateAllValues { value in if value.reference == released { value = .unknownScalar } }
        }
        // Only a plain lookup finds every in-range key of an array (`map_lookup_percpu_elem` is
        // NULL for a CPU that does not exist).
        let present = helper.name == "map_lookup_elem" && map.map { isPresent(key, in: $0, state) } ?? false
        if present, let key { markKeyPrecise(key, size: maps[map!].keySize, state) }
        setResult(of: helper, map: map, present: present, &state, at: pc)
        state.pc = pc + 1
        return true
    }

    /// The two ways on from a `bpf_loop` call (or a return from its callback): the helper
    /// returns (forked), or it runs the callback once more (the path goes on in it). The
    /// caller's r1-r4 still hold the call's arguments: the callback gets r3 as its context.
    func repeatCallback(_ function: Int, _ callback: CallbackFrame, from pc: Int, iteration: Int,
                        _ state: inout AbstractState, forks: inout [AbstractState]) throws(VerifierError)
    {
        var after = state
        for register in 1...5 { after[register] = .uninitialized }
        after[0] = .unknownScalar
        after.pc = pc + 1
        forks.append(after)
        var frame = try enter(function: function, from: pc, state, callback: callback)
        frame.registers[1] = .scalar(.range(0, 1 << 23 - 1))
        frame.registers[2] = state[3]
        frame.iteration = iteration
        state.frames.append(frame)
        state.pc = function
    }

    /// Whether a lookup of `key` in array map `map` cannot miss: a constant key below
    /// `max_entries` (the kernel's constant map keys).
    private func isPresent(_ key: Value?, in map: Int, _ state: AbstractState) -> Bool {
        let definition = maps[map]
        guard definition.type == .array || definition.type == .perThreadArray, let key,
              [1, 2, 4, 8].contains(definition.keySize) else { return false }
        var copy = state
        guard let loaded = try? access(key, register: 2, offset: 0, size: definition.keySize, .read, &copy, at: state.pc),
              let constant = loaded.scalar.constantValue, loaded.isScalar else { return false }
        return constant < UInt64(definition.maxEntries)
    }

    /// A constant key found a present element: the stack bytes that hold it must hold it in
    /// every state this one is pruned against.
    private func markKeyPrecise(_ key: Value, size: Int, _ state: AbstractState) {
        guard case .stack(let frame)? = key.pointerKind, let variable = key.scalar.constantValue else { return }
        let start = key.offset + Int64(bitPattern: variable) + Int64(Interpreter.stackFrameSize)
        guard start >= 0, start + Int64(size) <= Int64(Interpreter.stackFrameSize) else { return }
        var mask = PrecisionMask()
        for byte in Int(start)..<(Int(start) + size) { mask.slots[frame] |= 1 << UInt64(byte / 8) }
        markPrecise(mask)
    }

    /// r0 as the helper's return type says (a map value that cannot be missing is not NULL),
    /// and r1-r5 no longer readable.
    private func setResult(of helper: Helper, map: Int?, present: Bool, _ state: inout AbstractState, at pc: Int) {
        let result: Value
        switch helper.returns {
        case .integer:
            result = .unknownScalar
        case .mapValueOrNull:
            // A map of maps holds maps: what a lookup finds is an inner map, a map argument for helpers.
            let kind: PointerKind = maps.innerMap(of: map!).map { .map($0) } ?? .mapValue(map!)
            result = Value(type: .pointer(kind), scalar: .constant(0), id: present ? 0 : state.freshID(),
                           maybeNull: !present)
        case .ringBufferMemoryOrNull:
            let size = Int64(bitPattern: state[2].scalar.constantValue ?? 0)
            let id = state.freshID()
            state.references[id] = Reference(instruction: pc,
                                             frame: state.frames.lastIndex { $0.callback != nil } ?? 0)
            result = Value(type: .pointer(.memory(size: size)), scalar: .constant(0), id: id, maybeNull: true,
                           reference: id)
        }
        for register in 1...5 { state[register] = .uninitialized }
        state[0] = result
    }

    /// Checks that `value` (argument `register`) points into the value of a frozen read-only map,
    /// at a constant offset, where a NUL ends the string before the value does (`check_reg_const_str`).
    private func checkConstantString(register: Int, _ value: Value, at pc: Int) throws(VerifierError) {
        guard case .mapValue(let index)? = value.pointerKind, !value.maybeNull else {
            throw VerifierError(.argumentType(register: register, actual: value.typeName, expected: "map_value"), at: pc)
        }
        guard let bytes = environment.frozenValues[index] else {
            throw VerifierError(.constantString("R\(register) does not point to a readonly map'"), at: pc)
        }
        guard let variable = value.scalar.constantValue else {
            throw VerifierError(.constantString("R\(register) is not a constant address'"), at: pc)
        }
        let offset = value.offset + Int64(bitPattern: variable)
        guard offset >= 0, offset < Int64(bytes.count) else {
            throw VerifierError(.mapValueAccess(valueSize: bytes.count, offset: offset, size: 1), at: pc)
        }
        guard bytes[Int(offset)...].contains(0) else {
            throw VerifierError(.constantString("string is not zero-terminated"), at: pc)
        }
    }

    /// Checks that `value` (argument `register`) points to `size` bytes the helper may read
    /// (initialised, for stack) or write; a helper's writes to the stack make those bytes data.
    func checkMemoryArgument(register: Int, _ value: Value, size: Int, writes: Bool, _ state: inout AbstractState,
                             at pc: Int) throws(VerifierError)
    {
        guard let kind = value.pointerKind, !value.maybeNull else {
            throw VerifierError(.argumentType(register: register, actual: value.typeName, expected: "fp"), at: pc)
        }
        if size == 0 { return }
        switch kind {
        case .stack(let frame):
            let variable = value.scalar.b64
            let frameSize = Int64(Interpreter.stackFrameSize)
            guard variable.smin > -frameSize * 2, variable.smax < frameSize * 2 else {
                throw VerifierError(.unboundedAccess(register: register), at: pc)
            }
            let low = value.offset + variable.smin, high = value.offset + variable.smax + Int64(size)
            guard low >= -frameSize, high <= 0 else {
                throw VerifierError(.stackAccess(write: writes, register: register,
                                                 variable: value.scalar.isConstant ? nil : value.scalar.tnumText,
                                                 offset: value.scalar.isConstant ? low : value.offset, size: size), at: pc)
            }
            let first = Int(low + frameSize), last = Int(high + frameSize)
            if writes {
                clobberStack(frame: frame, start: first, count: last - first, &state)
            } else {
                for byte in first..<last {
                    let slot = state.frames[frame].stack[byte / 8]
                    guard slot.kind(at: byte % 8) != .invalid else {
                        throw VerifierError(.uninitializedStackRead(register: register, offset: low,
                                                                    byte: byte - first, size: size), at: pc)
                    }
                }
            }
            let function = structure.functionOfSlot[state.frames[frame].function]
            stackDepth[function] = max(stackDepth[function], Int(-low))
        default:
            let access: MemoryAccess = writes ? .write(.unknownScalar, immediate: false) : .read
            _ = try self.access(value, register: register, offset: 0, size: size, access, &state, at: pc)
        }
    }
}
