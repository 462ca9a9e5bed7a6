import BPFVM

/// Loads (with the fault-safe ones recorded for the exception table) and atomics.
extension ProgramCompiler {
    mutating func compileLoad(_ memorySize: MemorySize, dst: Register, from memory: MemoryOperand, signExtend: Bool,
                              faultSafe: Bool)
    {
        let d = reg(dst)
        let start = asm.position
        switch (memorySize, signExtend) {
        case (.byte, false): asm.movzx(d, .byte, .memory(memory))
        case (.half, false): asm.movzx(d, .word, .memory(memory))
        case (.word, false): asm.mov(.dword, d, memory)
        case (.doubleWord, _): asm.mov(.qword, d, memory)
        case (.byte, true): asm.movsx(.qword, d, .byte, .memory(memory))
        case (.half, true): asm.movsx(.qword, d, .word, .memory(memory))
        case (.word, true): asm.movsx(.qword, d, .dword, .memory(memory))
        }
        if faultSafe { recordFault(load: start, resume: asm.position, register: d) }
        setZeroExtended(dst, !signExtend && memorySize != .doubleWord)
    }

    /// The twelve atomics, all sequentially consistent (`lock`ed, or `xchg`). The fetching forms
    /// of `or`, `and` and `xor` have no x86 instruction: a `lock cmpxchg` loop, with r0 (rax,
    /// which `cmpxchg` needs) kept in r10.
    mutating func compileAtomic(_ op: AtomicOperation, fetch: Bool, _ size: OperandSize, dst: Register, src: Register,
                                offset: Int16)
    {
        var memory = MemoryOperand(reg(dst), Int32(offset))
        let s = reg(src)
        switch op {
        case .add:
            if fetch { asm.lockXadd(size, memory, s) } else { asm.alu(.add, size, memory, s, lock: true) }
        case .or, .and, .xor:
            let operation: X86Assembler.ArithmeticOperation = op == .or ? .or : op == .and ? .and : .xor
            guard fetch else {
                asm.alu(operation, size, memory, s, lock: true)
                return
            }
            let saved = RegisterMap.scratch2, updated = RegisterMap.scratch
            asm.mov(.qword, saved, .rax)
            if dst == .r0 { memory.base = saved }
            let operand = src == .r0 ? saved : s
            asm.mov(size, .rax, memory)
            let again = asm.newLabel()
            asm.bind(again)
            asm.mov(.qword, updated, .rax)
            asm.alu(operation, size, updated, operand)
            asm.lockCmpxchg(size, memory, updated)
            asm.j(.notEqual, again)
            // rax holds the old value (zero-extended for 32 bits); it goes to src.
            if src != .r0 {
                asm.mov(.qword, s, .rax)
                asm.mov(.qword, .rax, saved)
            }
        case .xchg:
            asm.xchg(size, memory, s)
        case .cmpxchg:
            asm.lockCmpxchg(size, memory, s)
            // On success a 32-bit cmpxchg leaves rax's upper half alone; r0 gets the old value
            // zero-extended either way.
            if size == .dword { asm.mov(.dword, .rax, .rax) }
            setZeroExtended(.r0, size == .dword)
            return
        }
        if fetch { setZeroExtended(src, size == .dword) }
    }
}
