import BPFVM

extension Analyzer {
    // MARK: - Branches

    func branch(_ condition: JumpCondition, _ width: OperandWidth, dst: Register, source: Operand, target: Int,
                next: Int, _ state: inout AbstractState, forks: inout [AbstractState], at pc: Int)
        throws(VerifierError) -> Bool
    {
        let left = try read(dst, state, at: pc)
        var sourceRegister: Int? = nil
        let right: Value
        switch source {
        case .register(let src):
            right = try read(src, state, at: pc)
            sourceRegister = Int(src.rawValue)
        case .immediate(let imm):
            right = .constant(width == .bits64 ? UInt64(bitPattern: Int64(imm)) : UInt64(UInt32(bitPattern: imm)))
        }
        let dstRegister = Int(dst.rawValue)
        var taken = state, notTaken = state
        taken.pc = target
        notTaken.pc = next

        if left.isScalar && right.isScalar {
            if let decided = Scalar.evaluate(condition, width: width, left.scalar, right.scalar) {
                // Only one edge is followed: that depends on both numbers.
                markOperandsPrecise(dst, source, in: state)
                state.pc = decided ? target : next
                return true
            }
            let yes = Scalar.refine(condition, width: width, left.scalar, right.scalar, taken: true)
            let no = Scalar.refine(condition, width: width, left.scalar, right.scalar, taken: false)
            if let (a, b) = yes {
                taken[dstRegister].scalar = a
                if let sourceRegister { taken[sourceRegister].scalar = b }
            }
            if let (a, b) = no {
                notTaken[dstRegister].scalar = a
                if let sourceRegister { notTaken[sourceRegister].scalar = b }
            }
            return follow(taken: yes == nil ? nil : taken, notTaken: no == nil ? nil : notTaken, &state, forks: &forks)
        }

        // A pointer compared with a number: whether it is a NULL check depends on the number.
        if left.isScalar != right.isScalar { markOperandsPrecise(dst, source, in: state) }
        // A NULL check of a maybe-NULL pointer refines every copy of it.
        if let (pointer, _) = nullCheck(left, right), condition == .eq || condition == .ne, width == .bits64 {
            let (isNull, isNotNull) = condition == .eq ? (taken, notTaken) : (notTaken, taken)
            var nullState = isNull, valueState = isNotNull
            markNull(pointer, &nullState)
            nullState.updateAllValues { value in if value.id == pointer.id && value.maybeNull { value.maybeNull = false } }
            valueState.updateAllValues { value in if value.id == pointer.id { value.maybeNull = false } }
            return condition == .eq ? follow(taken: nullState, notTaken: valueState, &state, forks: &forks)
                : follow(taken: valueState, notTaken: nullState, &state, forks: &forks)
        }

        // A pointer compared with a number or another pointer: both edges, nothing learnt (as the
        // kernel does for privileged programs), except packet ranges.
        if width == .bits64, !left.isScalar, !right.isScalar {
            refinePacketRanges(condition, left, right, taken: &taken, notTaken: &notTaken)
        }
        return follow(taken: taken, notTaken: notTaken, &state, forks: &forks)
    }

    /// Continues with the fall-through edge (when feasible) and forks the taken one.
    private func follow(taken: AbstractState?, notTaken: AbstractState?, _ state: inout AbstractState,
                        forks: inout [AbstractState]) -> Bool
    {
        switch (taken, notTaken) {
        case let (taken?, notTaken?):
            forks.append(taken)
            state = notTaken
        case let (taken?, nil):
            state = taken
        case let (nil, notTaken?):
            state = notTaken
        case (nil, nil):
            return false
        }
        return true
    }

    /// The maybe-NULL pointer of a comparison against 0, if it is one.
    private func nullCheck(_ left: Value, _ right: Value) -> (Value, Value)? {
        if left.maybeNull && right.isZero { return (left, right) }
        if right.maybeNull && left.isZero { return (right, left) }
        return nil
    }

    /// On the edge where `pointer` is NULL, every copy of it is the number 0, and a reference it
    /// would have held was never acquired.
    private func markNull(_ pointer: Value, _ state: inout AbstractState) {
        if pointer.reference != 0 { state.references[pointer.reference] = nil }
        state.updateAllValues { value in
            if value.maybeNull && value.id == pointer.id { value = .constant(0) }
        }
    }

    /// `pkt + N` compared with `pkt_end` (or `meta + N` with `pkt`): on the edge where it is
    /// not past the end, the first N bytes from every copy of the packet pointer are proven.
    private func refinePacketRanges(_ condition: JumpCondition, _ left: Value, _ right: Value,
                                    taken: inout AbstractState, notTaken: inout AbstractState)
    {
        func pairs(_ pointer: PointerKind?, _ end: PointerKind?) -> Bool {
            (pointer == .packet && end == .packetEnd) || (pointer == .packetMeta && end == .packet)
        }
        // Which edge proves `pointer + N <= end` (N bytes) or `pointer + N < end` (N + 1 bytes):
        // the kernel's try_match_pkt_pointers.
        let pointer: Value
        let inside: Bool, open: Bool  // inside: the taken edge; open: the strict inequality
        if pairs(left.pointerKind, right.pointerKind) {
            pointer = left
            switch condition {
            case .gt: (inside, open) = (false, false)
            case .ge: (inside, open) = (false, true)
            case .lt: (inside, open) = (true, true)
            case .le: (inside, open) = (true, false)
            default: return
            }
        } else if pairs(right.pointerKind, left.pointerKind) {
            pointer = right
            switch condition {
            case .gt: (inside, open) = (true, true)
            case .ge: (inside, open) = (true, false)
            case .lt: (inside, open) = (false, false)
            case .le: (inside, open) = (false, true)
            default: return
            }
        } else {
            return
        }
        guard pointer.offset >= 0 else { return }
        let proven = pointer.offset + (open ? 1 : 0)
        guard proven > 0 else { return }
        let mark = { (state: inout AbstractState) in
            state.updateAllValues { value in
                if value.pointerKind == pointer.pointerKind && value.id == pointer.id {
                    value.range = max(value.range, proven)
                }
            }
        }
        if inside { mark(&taken) } else { mark(&notTaken) }
    }

    // MARK: - Calls and exits

    func call(_ target: CallTarget, _ state: inout AbstractState, forks: inout [AbstractState], at pc: Int)
        throws(VerifierError) -> Bool
    {
        switch target {
        case .helper(let id):
            return try helperCall(id, &state, forks: &forks, at: pc)
        case .local(let offset):
            let callee = pc + 1 + Int(offset)
            var frame = try enter(function: callee, from: pc, state)
            for register in 1...5 { frame.registers[register] = state[register] }
            state.frames.append(frame)
            state.pc = callee
            return true
        case .register(let register):
            // callx: the register must hold one known helper id.
            let value = try read(register, state, at: pc)
            markPrecise(register, in: state)
            guard value.isScalar, let id = value.scalar.constantValue, id <= UInt64(HelperTable.maximumID),
                  environment.helpers[Int32(id)] != nil
            else {
                throw VerifierError(.unsupportedCall("callx through R\(register.rawValue), which holds no known helper id,"), at: pc)
            }
            return try helperCall(Int32(id), &state, forks: &forks, at: pc)
        case .kfunc:
            throw VerifierError(.unsupportedCall("calling kernel functions (kfuncs)"), at: pc)
        }
    }

    /// A new frame for `function` called at `pc`, within the frame limit.
    func enter(function: Int, from pc: Int, _ state: AbstractState, callback: CallbackFrame? = nil)
        throws(VerifierError) -> Frame
    {
        guard state.frames.count < Interpreter.maximumCallDepth else {
            throw VerifierError(.callStackTooDeep(frames: state.frames.count + 1), at: pc)
        }
        var frame = Frame(callSite: pc, function: function, callback: callback)
        frame.registers[10] = .pointer(.stack(frame: state.frames.count))
        return frame
    }

    func exit(_ state: inout AbstractState, forks: inout [AbstractState], at pc: Int) throws(VerifierError) -> Bool {
        // A callback's r0 goes to the helper, which needs a number (the kernel does not ask
        // whether it was written, only whether it is a scalar).
        if state.current.callback != nil, !state[0].isScalar {
            throw VerifierError(.callbackReturnNotScalar, at: pc)
        }
        let result = try read(.r0, state, at: pc)
        if state.frames.count == 1 {
            try checkReleased(state, acquiredFrom: 0, at: pc)
            guard result.isScalar else { throw VerifierError(.pointerLeak(register: 0, into: "as return value"), at: pc) }
            if let range = environment.returnRange {
                markPrecise(.r0, in: state)
                try checkReturn(result.scalar, in: range, thirtyTwoBit: environment.checksReturnOn32Bits, callback: false,
                                at: pc)
            }
            return false
        }
        let depth = state.frames.count - 1
        if case .stack(let frame)? = result.pointerKind, frame >= depth {
            throw VerifierError(.invalidStore("cannot return stack pointer to the caller"), at: pc)
        }
        if state.current.callback != nil { try checkReleased(state, acquiredFrom: depth, at: pc) }
        // A callback's r0 is checked against the helper's range.
        if state.current.callback != nil { markPrecise(.r0, in: state) }
        let callee = state.frames.removeLast()
        if let callback = callee.callback {
            try checkReturn(result.scalar, in: callback.returnRange, thirtyTwoBit: false, callback: true, at: pc)
        }
        // Nothing may keep pointing into the frame that is gone.
        state.updateAllValues { value in
            if case .stack(let frame)? = value.pointerKind, frame >= depth { value = .unknownScalar }
        }
        if let callback = callee.callback {
            // The helper may run the callback again, or return.
            try repeatCallback(callee.function, callback, from: callee.callSite, iteration: callee.iteration + 1, &state,
                               forks: &forks)
        } else {
            state[0] = result
            for register in 1...5 { state[register] = .uninitialized }
            state.pc = callee.callSite + 1
        }
        return true
    }

    /// References acquired in `frame` or deeper must have been released by now.
    func checkReleased(_ state: AbstractState, acquiredFrom frame: Int, at pc: Int) throws(VerifierError) {
        if let (id, reference) = state.unreleasedReference(acquiredFrom: frame) {
            throw VerifierError(.unreleasedReference(id: id, instruction: reference.instruction), at: pc)
        }
    }

    private func checkReturn(_ value: Scalar, in range: ClosedRange<Int64>, thirtyTwoBit: Bool, callback: Bool,
                             at pc: Int) throws(VerifierError)
    {
        let smin = thirtyTwoBit ? Int64(value.b32.smin) : value.b64.smin
        let smax = thirtyTwoBit ? Int64(value.b32.smax) : value.b64.smax
        guard range.contains(smin), range.contains(smax) else {
            throw VerifierError(.returnValue(smin: smin, smax: smax, allowed: range, callback: callback), at: pc)
        }
    }
}

extension ProgramKind {
    var isLSM: Bool { if case .lsm = self { true } else { false } }
}
