/// The named instructions of the assembler: each encodes one x86-64 instruction form, the way
/// llvm-mc encodes it (the tests compare byte for byte).
extension X86Assembler {
    /// The eight classic two-operand arithmetic operations, numbered as their `/digit`.
    package enum ArithmeticOperation: UInt8, CaseIterable, Sendable {
        case add = 0, or, adc, sbb, and, sub, xor, cmp
    }

    /// Shifts and rotates, numbered as their `/digit`.
    package enum ShiftOperation: UInt8, CaseIterable, Sendable {
        case rol = 0, ror = 1, shl = 4, shr = 5, sar = 7
    }

    /// An instruction with an immediate operand: the `short` opcode with an imm8 when the value
    /// fits a signed byte, else the `long` one with an imm32.
    mutating func instruction(short: UInt8, long: UInt8, size: OperandSize, reg: UInt8, _ rm: Operand,
                              immediate: Int32)
    {
        if let small = Int8(exactly: immediate) {
            instruction(short, size: size, reg: reg, rm)
            byte(UInt8(bitPattern: small))
        } else {
            instruction(long, size: size, reg: reg, rm)
            int32(immediate)
        }
    }

    // MARK: Moves

    /// `mov dst, src` between registers (any size).
    package mutating func mov(_ size: OperandSize, _ dst: X86Register, _ src: X86Register) {
        instruction(size == .byte ? 0x88 : 0x89, size: size, reg: src.rawValue, .register(dst), byteReg: size == .byte)
    }

    /// `mov dst, [src]` (any size; a byte or word load leaves the rest of `dst` as it was).
    package mutating func mov(_ size: OperandSize, _ dst: X86Register, _ src: MemoryOperand) {
        instruction(size == .byte ? 0x8a : 0x8b, size: size, reg: dst.rawValue, .memory(src), byteReg: size == .byte)
    }

    /// `mov [dst], src` (any size).
    package mutating func mov(_ size: OperandSize, _ dst: MemoryOperand, _ src: X86Register) {
        instruction(size == .byte ? 0x88 : 0x89, size: size, reg: src.rawValue, .memory(dst), byteReg: size == .byte)
    }

    /// `mov [dst], imm` (a qword store sign-extends the 32-bit immediate).
    package mutating func mov(_ size: OperandSize, _ dst: MemoryOperand, immediate: Int32) {
        instruction(size == .byte ? 0xc6 : 0xc7, size: size, reg: 0, .memory(dst))
        switch size {
        case .byte: byte(UInt8(truncatingIfNeeded: immediate))
        case .word: int16(Int16(truncatingIfNeeded: immediate))
        case .dword, .qword: int32(immediate)
        }
    }

    /// `mov r32, imm32`: the upper half of the 64-bit register becomes zero.
    package mutating func mov(_ dst: X86Register, zeroExtending value: UInt32) {
        if dst.isExtended { byte(0x41) }
        byte(0xb8 | dst.low3)
        int32(Int32(bitPattern: value))
    }

    /// `mov r64, imm32` sign-extended to 64 bits.
    package mutating func mov(_ dst: X86Register, signExtending value: Int32) {
        instruction(0xc7, size: .qword, reg: 0, .register(dst))
        int32(value)
    }

    /// `movabs r64, imm64`.
    package mutating func movabs(_ dst: X86Register, _ value: UInt64) {
        byte(dst.isExtended ? 0x49 : 0x48)
        byte(0xb8 | dst.low3)
        int64(value)
    }

    /// `movzx r32, r/m8` or `movzx r32, r/m16` (zero-extends to all 64 bits).
    package mutating func movzx(_ dst: X86Register, _ sourceSize: OperandSize, _ src: Operand) {
        precondition(sourceSize == .byte || sourceSize == .word, "movzx reads a byte or a word")
        instruction(sourceSize == .byte ? 0xb6 : 0xb7, map: .twoByte, size: .dword, reg: dst.rawValue, src,
                    byteRM: sourceSize == .byte)
    }

    /// `movsx`/`movsxd`: `src` (byte, word or dword) sign-extended into `dst` of `size` (dword or
    /// qword; a dword result zero-extends to 64 bits).
    package mutating func movsx(_ size: OperandSize, _ dst: X86Register, _ sourceSize: OperandSize, _ src: Operand) {
        switch sourceSize {
        case .byte: instruction(0xbe, map: .twoByte, size: size, reg: dst.rawValue, src, byteRM: true)
        case .word: instruction(0xbf, map: .twoByte, size: size, reg: dst.rawValue, src, byteRM: false)
        case .dword:
            precondition(size == .qword, "movsxd extends to 64 bits")
            instruction(0x63, size: .qword, reg: dst.rawValue, src)
        case .qword: preconditionFailure("nothing to sign-extend from 64 bits")
        }
    }

    /// `lea dst, [m]`.
    package mutating func lea(_ dst: X86Register, _ src: MemoryOperand) {
        instruction(0x8d, size: .qword, reg: dst.rawValue, .memory(src))
    }

    /// `lea dst, [rip + label]`: the address of a label.
    package mutating func lea(_ dst: X86Register, _ label: Label) {
        instruction(0x8d, size: .qword, reg: dst.rawValue, .label(label))
    }

    /// `cmovcc dst, src` (dword or qword).
    package mutating func cmov(_ condition: ConditionCode, _ size: OperandSize, _ dst: X86Register, _ src: X86Register) {
        instruction(0x40 | condition.rawValue, map: .twoByte, size: size, reg: dst.rawValue, .register(src))
    }

    // MARK: Arithmetic

    /// `op dst, src` between registers (dword or qword).
    package mutating func alu(_ operation: ArithmeticOperation, _ size: OperandSize, _ dst: X86Register,
                              _ src: X86Register)
    {
        instruction(operation.rawValue << 3 | 0x01, size: size, reg: src.rawValue, .register(dst))
    }

    /// `op dst, imm` (dword or qword; a qword operation sign-extends the immediate): the
    /// imm8 form when the value fits, else the accumulator form for `rax`, else imm32.
    package mutating func alu(_ operation: ArithmeticOperation, _ size: OperandSize, _ dst: X86Register,
                              immediate: Int32)
    {
        if dst == .rax && Int8(exactly: immediate) == nil {
            if size == .qword { byte(0x48) }
            byte(operation.rawValue << 3 | 0x05)
            int32(immediate)
        } else {
            instruction(short: 0x83, long: 0x81, size: size, reg: operation.rawValue, .register(dst), immediate: immediate)
        }
    }

    /// `[lock] op [dst], src` (dword or qword).
    package mutating func alu(_ operation: ArithmeticOperation, _ size: OperandSize, _ dst: MemoryOperand,
                              _ src: X86Register, lock: Bool = false)
    {
        instruction(operation.rawValue << 3 | 0x01, size: size, reg: src.rawValue, .memory(dst), lock: lock)
    }

    /// `op [dst], imm` (dword or qword), imm8 when the value fits.
    package mutating func alu(_ operation: ArithmeticOperation, _ size: OperandSize, _ dst: MemoryOperand,
                              immediate: Int32)
    {
        instruction(short: 0x83, long: 0x81, size: size, reg: operation.rawValue, .memory(dst), immediate: immediate)
    }

    /// `test a, b` (dword or qword).
    package mutating func test(_ size: OperandSize, _ a: X86Register, _ b: X86Register) {
        instruction(0x85, size: size, reg: b.rawValue, .register(a))
    }

    /// `test a, imm` (dword or qword; the accumulator form for `rax`).
    package mutating func test(_ size: OperandSize, _ a: X86Register, immediate: Int32) {
        if a == .rax {
            if size == .qword { byte(0x48) }
            byte(0xa9)
        } else {
            instruction(0xf7, size: size, reg: 0, .register(a))
        }
        int32(immediate)
    }

    /// `imul dst, src` (dword or qword).
    package mutating func imul(_ size: OperandSize, _ dst: X86Register, _ src: X86Register) {
        instruction(0xaf, map: .twoByte, size: size, reg: dst.rawValue, .register(src))
    }

    /// `imul dst, src, imm` (dword or qword), imm8 when the value fits.
    package mutating func imul(_ size: OperandSize, _ dst: X86Register, _ src: X86Register, immediate: Int32) {
        instruction(short: 0x6b, long: 0x69, size: size, reg: dst.rawValue, .register(src), immediate: immediate)
    }

    /// `neg r` (dword or qword).
    package mutating func neg(_ size: OperandSize, _ register: X86Register) {
        instruction(0xf7, size: size, reg: 3, .register(register))
    }

    /// `div r`: unsigned `rdx:rax / r` (or `edx:eax`), quotient in rax, remainder in rdx.
    package mutating func div(_ size: OperandSize, _ divisor: X86Register) {
        instruction(0xf7, size: size, reg: 6, .register(divisor))
    }

    /// `idiv r`: signed `rdx:rax / r` (or `edx:eax`).
    package mutating func idiv(_ size: OperandSize, _ divisor: X86Register) {
        instruction(0xf7, size: size, reg: 7, .register(divisor))
    }

    /// `cdq` (dword) or `cqo` (qword): sign-extends the accumulator into rdx/edx.
    package mutating func signExtendAccumulator(_ size: OperandSize) {
        if size == .qword { byte(0x48) }
        byte(0x99)
    }

    /// `op r, imm` for shifts and rotates (word, dword or qword); the count is masked by the CPU.
    package mutating func shift(_ operation: ShiftOperation, _ size: OperandSize, _ register: X86Register,
                                immediate: UInt8)
    {
        if immediate == 1 {
            instruction(0xd1, size: size, reg: operation.rawValue, .register(register))
        } else {
            instruction(0xc1, size: size, reg: operation.rawValue, .register(register))
            byte(immediate)
        }
    }

    /// `op r, cl` for shifts and rotates (dword or qword).
    package mutating func shiftByCL(_ operation: ShiftOperation, _ size: OperandSize, _ register: X86Register) {
        instruction(0xd3, size: size, reg: operation.rawValue, .register(register))
    }

    /// The BMI2 shifts that take their count from any register: `shlx`, `shrx`, `sarx`.
    package enum BMI2Shift: UInt8, CaseIterable, Sendable {
        /// The VEX `pp` field of each.
        case shlx = 1, sarx = 2, shrx = 3
    }

    /// `shlx/shrx/sarx dst, src, count` (dword or qword; the count is masked by the CPU, flags
    /// are left alone).
    package mutating func shift(_ operation: BMI2Shift, _ size: OperandSize, _ dst: X86Register, _ src: X86Register,
                                count: X86Register)
    {
        byte(0xc4)
        byte((dst.isExtended ? 0 : 0x80) | 0x40 | (src.isExtended ? 0 : 0x20) | 0x02)
        byte((size == .qword ? 0x80 : 0) | (~count.rawValue & 0x0f) << 3 | operation.rawValue)
        byte(0xf7)
        byte(0xc0 | dst.low3 << 3 | src.low3)
    }

    /// `bswap r` (dword or qword).
    package mutating func bswap(_ size: OperandSize, _ register: X86Register) {
        if size == .qword || register.isExtended { byte((size == .qword ? 0x48 : 0x40) | (register.isExtended ? 1 : 0)) }
        byte(0x0f)
        byte(0xc8 | register.low3)
    }

    /// `movbe dst, [src]`: a byte-swapping load (word, dword or qword; a word load leaves the rest
    /// of `dst` as it was).
    package mutating func movbe(_ size: OperandSize, _ dst: X86Register, _ src: MemoryOperand) {
        instruction(0xf0, map: .threeByte38, size: size, reg: dst.rawValue, .memory(src))
    }

    /// `movbe [dst], src`: a byte-swapping store.
    package mutating func movbe(_ size: OperandSize, _ dst: MemoryOperand, _ src: X86Register) {
        instruction(0xf1, map: .threeByte38, size: size, reg: src.rawValue, .memory(dst))
    }

    // MARK: Atomics

    /// `xchg [m], r` (dword or qword; always locked).
    package mutating func xchg(_ size: OperandSize, _ memory: MemoryOperand, _ register: X86Register) {
        instruction(0x87, size: size, reg: register.rawValue, .memory(memory))
    }

    /// `lock xadd [m], r` (dword or qword): `r` receives the old value.
    package mutating func lockXadd(_ size: OperandSize, _ memory: MemoryOperand, _ register: X86Register) {
        instruction(0xc1, map: .twoByte, size: size, reg: register.rawValue, .memory(memory), lock: true)
    }

    /// `lock cmpxchg [m], r` (dword or qword): compares the accumulator with `[m]`; stores `r` when
    /// equal, else loads `[m]` into the accumulator.
    package mutating func lockCmpxchg(_ size: OperandSize, _ memory: MemoryOperand, _ register: X86Register) {
        instruction(0xb1, map: .twoByte, size: size, reg: register.rawValue, .memory(memory), lock: true)
    }

    // MARK: Stack and control flow

    /// `push r`.
    package mutating func push(_ register: X86Register) {
        if register.isExtended { byte(0x41) }
        byte(0x50 | register.low3)
    }

    /// `pop r`.
    package mutating func pop(_ register: X86Register) {
        if register.isExtended { byte(0x41) }
        byte(0x58 | register.low3)
    }

    /// `ret`.
    package mutating func ret() { byte(0xc3) }

    /// `leave`: `mov rsp, rbp; pop rbp`.
    package mutating func leave() { byte(0xc9) }

    /// Eight bytes of data (a table entry after the code).
    package mutating func data(_ value: UInt64) { int64(value) }

    /// `int3`: the breakpoint trap, used as padding that must never run.
    package mutating func int3() { byte(0xcc) }

    /// `jmp label` (rel8 or rel32, chosen at layout).
    package mutating func jmp(_ label: Label) { branch(nil, to: label) }

    /// `jcc label` (rel8 or rel32, chosen at layout).
    package mutating func j(_ condition: ConditionCode, _ label: Label) { branch(condition, to: label) }

    /// `call label` (rel32).
    package mutating func call(_ label: Label) {
        byte(0xe8)
        relative32(to: label)
    }

    /// `call rel32` to an absolute address, which must lie within 2 GiB of the code.
    package mutating func call(absolute address: UInt64) {
        byte(0xe8)
        relative32(toAbsolute: address)
    }

    /// `call r`.
    package mutating func call(_ register: X86Register) {
        instruction(0xff, size: .dword, reg: 2, .register(register))
    }

    /// `jmp r`.
    package mutating func jmp(_ register: X86Register) {
        instruction(0xff, size: .dword, reg: 4, .register(register))
    }

    /// `jmp rel32` to an absolute address, which must lie within 2 GiB of the code.
    package mutating func jmp(absolute address: UInt64) {
        byte(0xe9)
        relative32(toAbsolute: address)
    }

    /// `jmp rel32` to `label`, always in its 5-byte form (for jumps that are patched later).
    package mutating func jmpRel32(_ label: Label) {
        byte(0xe9)
        relative32(to: label)
    }

    /// `mov dst, fs:[0]`: the thread pointer (the TCB's self pointer on x86-64 Linux), from which
    /// initial-exec thread-local variables lie at fixed offsets.
    package mutating func loadThreadPointer(_ dst: X86Register) {
        byte(0x64)
        byte(dst.isExtended ? 0x4c : 0x48)
        byte(0x8b)
        // ModRM with a SIB byte, SIB "no base, no index": a bare disp32 (0).
        byte(0x04 | dst.low3 << 3)
        byte(0x25)
        int32(0)
    }

    /// `rdtsc`: the time-stamp counter into edx:eax.
    package mutating func rdtsc() {
        byte(0x0f)
        byte(0x31)
    }
}
