import BPFVM

/// Branches, helper and local calls, `callx`, tail calls and `bpf_loop`.
extension ProgramCompiler {
    mutating func compileBranch(_ condition: JumpCondition, _ width: OperandWidth, dst: Register, source operand: Operand,
                                target: Label)
    {
        asm.j(compare(condition, width, dst: dst, source: operand), target)
    }

    /// Sets the flags for a conditional jump and gives the condition code that jumps.
    mutating func compare(_ condition: JumpCondition, _ width: OperandWidth, dst: Register, source operand: Operand)
        -> ConditionCode
    {
        let size = size(width)
        let d = reg(dst)
        switch (condition, source(operand)) {
        case (.set, .register(let s)): asm.test(size, d, s)
        case (.set, .immediate(let value)): asm.test(size, d, immediate: value)
        case (_, .register(let s)): asm.alu(.cmp, size, d, s)
        // Against 0, `test` sets the flags every condition reads exactly as `cmp` would.
        case (_, .immediate(0)): asm.test(size, d, d)
        case (_, .immediate(let value)): asm.alu(.cmp, size, d, immediate: value)
        }
        return switch condition {
        case .eq: .equal
        case .ne, .set: .notEqual
        case .gt: .above
        case .ge: .aboveOrEqual
        case .lt: .below
        case .le: .belowOrEqual
        case .sgt: .greater
        case .sge: .greaterOrEqual
        case .slt: .less
        case .sle: .lessOrEqual
        }
    }

    /// `call id`: the engine's own operations inline, any other helper by a direct call with
    /// the run's context (r12) as its sixth argument.
    mutating func compileHelperCall(_ id: Int32, at index: Int) throws(JITError) {
        if poisoned.contains(index) {
            asm.mov(RegisterMap.scratch, signExtending: id)
            asm.mov(RegisterMap.scratch2, signExtending: Int32(index))
            asm.jmp(trapLabel)
        } else if id == tailCallID {
            compileTailCall()
        } else if id == loopID {
            compileLoop()
        } else if id == lookupHelperID, let map = constants[1].flatMap({ arrayMap(at: $0) }) {
            compileArrayLookup(map)
        } else {
            guard let function = helpers[id]?.function else { throw JITError(.unknownHelper(id), at: index) }
            callHelper(Self.address(of: function))
            if id == unwindID {
                // The unwind helper ends the whole run when it returns 0 (r0 is then 0).
                asm.test(.qword, .rax, .rax)
                asm.j(.equal, unwindLabel)
            }
        }
        zeroExtended &= ~0x3f
    }

    /// The plain array map whose pointer `address` is, if it is one of the program's.
    func arrayMap(at address: UInt64) -> (base: UnsafeMutableRawPointer, stride: Int, count: Int)? {
        guard let map = maps.first(where: { UInt64(UInt(bitPattern: $0.opaquePointer)) == address }),
              let values = map.arrayValues, values.count <= Int(Int32.max), values.stride <= Int(Int32.max)
        else { return nil }
        return values
    }

    /// `map_lookup_elem` on a known array map, inline (as the kernel's verifier rewrites it):
    /// the 32-bit key r2 points to, checked against the size, indexes the values. A key past
    /// the end gives NULL, and then jumps to `missingTarget` when there is one.
    mutating func compileArrayLookup(_ map: (base: UnsafeMutableRawPointer, stride: Int, count: Int),
                                     missing missingTarget: Label? = nil)
    {
        asm.mov(.dword, .rax, MemoryOperand(.rsi))
        asm.alu(.cmp, .dword, .rax, immediate: Int32(truncatingIfNeeded: map.count))
        // A key past the end: NULL, then on to `missingTarget` or past the address computation.
        let found = asm.newLabel(), done = asm.newLabel()
        asm.j(.below, found)
        asm.alu(.xor, .dword, .rax, .rax)
        asm.jmp(missingTarget ?? done)
        asm.bind(found)
        asm.movabs(RegisterMap.scratch, UInt64(UInt(bitPattern: map.base)))
        if [1, 2, 4, 8].contains(map.stride) {
            asm.lea(.rax, MemoryOperand(RegisterMap.scratch, index: .rax, scale: UInt8(map.stride)))
        } else {
            if map.stride & (map.stride - 1) == 0 {
                asm.shift(.shl, .qword, .rax, immediate: UInt8(map.stride.trailingZeroBitCount))
            } else {
                asm.imul(.qword, .rax, .rax, immediate: Int32(map.stride))
            }
            asm.alu(.add, .qword, .rax, RegisterMap.scratch)
        }
        asm.bind(done)
    }

    /// The address of a helper's C function.
    static func address(of function: HelperFunction) -> UInt64 {
        UInt64(UInt(bitPattern: unsafeBitCast(function, to: UnsafeRawPointer.self)))
    }

    /// Calls a C function at `address` with r1-r5 as its first five arguments and the run
    /// context as the sixth.
    mutating func callHelper(_ address: UInt64) {
        asm.mov(.qword, .r9, RegisterMap.run)
        callAbsolute(address)
    }

    /// A direct `call rel32`, or through r11 when the code lies out of reach of the host's.
    mutating func callAbsolute(_ address: UInt64) {
        if farCalls {
            asm.movabs(RegisterMap.scratch, address)
            asm.call(RegisterMap.scratch)
        } else {
            callTargets.insert(address)
            asm.call(absolute: address)
        }
    }

    /// `callx reg`: the helper whose id the register holds, found at run time in the helper
    /// table after the code (the engine's operations and the unwind helper first); an id with
    /// no helper traps, as in the interpreter.
    mutating func compileCallX(_ register: X86Register, at index: Int) {
        let id = RegisterMap.scratch
        let done = asm.newLabel(), unknown = asm.newLabel()
        asm.mov(.qword, id, register)
        var special: [(Label, Int32)] = []
        for known in [tailCallID, loopID, unwindID].compactMap({ $0 }) where helpers[known] != nil {
            let label = asm.newLabel()
            asm.alu(.cmp, .qword, id, immediate: known)
            asm.j(.equal, label)
            special.append((label, known))
        }
        let table = helperTableLabel ?? asm.newLabel()
        helperTableLabel = table
        asm.alu(.cmp, .qword, id, immediate: Int32(helperTableCount))
        asm.j(.aboveOrEqual, unknown)
        asm.lea(RegisterMap.scratch2, table)
        asm.mov(.qword, RegisterMap.scratch2, MemoryOperand(RegisterMap.scratch2, index: id, scale: 8))
        asm.test(.qword, RegisterMap.scratch2, RegisterMap.scratch2)
        asm.j(.equal, unknown)
        asm.mov(.qword, .r9, RegisterMap.run)
        asm.call(RegisterMap.scratch2)
        asm.jmp(done)
        for (label, known) in special {
            asm.bind(label)
            // Tail call, loop or unwind: as `call known` (these never fail to compile).
            try? compileHelperCall(known, at: index)
            asm.jmp(done)
        }
        asm.bind(unknown)
        asm.mov(RegisterMap.scratch2, signExtending: Int32(index))
        asm.jmp(trapLabel)
        asm.bind(done)
        zeroExtended &= ~0x3f
    }

    /// `bpf_tail_call(ctx, prog_array, index)`: only from the entry function (a run's first
    /// frame, as in the interpreter); at most `maximumTailCalls` in a run. The runtime finds the
    /// target's code; this function's frame is torn down and the target entered with r1 (the
    /// context) and the run block as they are. A tail call that cannot be made falls through
    /// with r0 = -ENOENT.
    mutating func compileTailCall() {
        let fail = asm.newLabel()
        guard functionNumber == 0 else {
            asm.mov(.rax, signExtending: -2)
            return
        }
        let run = RegisterMap.run
        asm.alu(.cmp, .qword, MemoryOperand(run, JITRun.tailCallsOffset), immediate: Int32(maximumTailCalls))
        asm.j(.aboveOrEqual, fail)
        asm.mov(.qword, MemoryOperand(run, JITRun.savedContextArgumentOffset), .rdi)
        // resolve(run, map (r2, already in rsi), index (r3, already in rdx))
        asm.mov(.qword, .rdi, run)
        callAbsolute(TailCalls.resolverAddress)
        asm.test(.qword, .rax, .rax)
        asm.j(.equal, fail)
        asm.alu(.add, .qword, MemoryOperand(run, JITRun.tailCallsOffset), immediate: 1)
        asm.mov(.qword, .rdi, MemoryOperand(run, JITRun.savedContextArgumentOffset))
        asm.mov(.qword, RegisterMap.scratch, .rax)
        emitEpilogue()
        asm.jmp(RegisterMap.scratch)
        asm.bind(fail)
        asm.mov(.rax, signExtending: -2)
    }

    /// `bpf_loop(turns, callback, ctx, flags)` inline: the callback (a compiled BPF function,
    /// which keeps r6-r9 and r12) is called with r1 = the turn and r2 = ctx until it returns
    /// non-zero or the turns run out; r0 = the turns made. The loop's state lives on the stack
    /// (four words, so calls stay aligned).
    mutating func compileLoop() {
        let invalid = asm.newLabel(), tooMany = asm.newLabel(), none = asm.newLabel()
        let again = asm.newLabel(), finished = asm.newLabel(), done = asm.newLabel()
        asm.test(.qword, .rcx, .rcx)
        asm.j(.notEqual, invalid)
        asm.alu(.cmp, .qword, .rdi, immediate: Int32(maximumLoopTurns))
        asm.j(.above, tooMany)
        asm.test(.qword, .rdi, .rdi)
        asm.j(.equal, none)
        asm.push(.rdi)  // [rsp + 24]: turns
        asm.push(.rsi)  // [rsp + 16]: callback
        asm.push(.rdx)  // [rsp + 8]: ctx
        asm.alu(.xor, .dword, .rax, .rax)
        asm.push(.rax)  // [rsp]: the turn
        asm.bind(again)
        asm.mov(.qword, .rdi, MemoryOperand(.rsp))
        asm.mov(.qword, .rsi, MemoryOperand(.rsp, 8))
        asm.mov(.qword, RegisterMap.scratch, MemoryOperand(.rsp, 16))
        asm.call(RegisterMap.scratch)
        asm.mov(.qword, .rcx, MemoryOperand(.rsp))
        asm.alu(.add, .qword, .rcx, immediate: 1)
        asm.mov(.qword, MemoryOperand(.rsp), .rcx)
        asm.test(.qword, .rax, .rax)
        asm.j(.notEqual, finished)
        asm.alu(.cmp, .qword, MemoryOperand(.rsp, 24), .rcx)
        asm.j(.above, again)
        asm.bind(finished)
        asm.mov(.qword, .rax, .rcx)
        asm.alu(.add, .qword, .rsp, immediate: 32)
        asm.jmp(done)
        asm.bind(invalid)
        asm.mov(.rax, signExtending: -22)  // -EINVAL
        asm.jmp(done)
        asm.bind(tooMany)
        asm.mov(.rax, signExtending: -7)  // -E2BIG
        asm.jmp(done)
        asm.bind(none)
        asm.alu(.xor, .dword, .rax, .rax)
        asm.bind(done)
    }

    /// Records a fault-safe load for the exception table.
    mutating func recordFault(load: X86Assembler.Position, resume: X86Assembler.Position, register: X86Register) {
        faults.append((load, resume, register))
    }
}
