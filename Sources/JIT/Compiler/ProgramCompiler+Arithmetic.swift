import BPFVM

/// ALU and ALU64: arithmetic, logic, shifts, division and modulo, byte swaps.
extension ProgramCompiler {
    mutating func compileALU(_ op: ALUOperation, _ width: OperandWidth, dst: Register, source operand: Operand) {
        let size = size(width)
        let d = reg(dst)
        switch op {
        case .add, .sub, .and, .or, .xor:
            let operation: X86Assembler.ArithmeticOperation = switch op {
            case .add: .add
            case .sub: .sub
            case .and: .and
            case .or: .or
            default: .xor
            }
            switch source(operand) {
            case .register(let s): asm.alu(operation, size, d, s)
            case .immediate(let value):
                // Adding, subtracting, or-ing or xor-ing 0 (and and-ing -1) changes nothing but
                // the upper half of a 32-bit operation.
                let identity: Int32 = op == .and ? -1 : 0
                if value == identity && (op != .and || width == .bits64) {
                    if width == .bits32 { zeroExtend(dst) }
                    return
                }
                asm.alu(operation, size, d, immediate: value)
            }
            setZeroExtended(dst, width == .bits32)
        case .mul:
            switch source(operand) {
            case .register(let s): asm.imul(size, d, s)
            case .immediate(let value): asm.imul(size, d, d, immediate: value)
            }
            setZeroExtended(dst, width == .bits32)
        case .mov:
            switch operand {
            case .register(let src):
                let s = reg(src)
                if width == .bits64 {
                    if d != s { asm.mov(.qword, d, s) }
                    setZeroExtended(dst, isZeroExtended(src))
                } else if d != s || !isZeroExtended(src) {
                    asm.mov(.dword, d, s)
                    setZeroExtended(dst, true)
                }
            case .immediate(let value):
                if width == .bits32 {
                    loadConstant(UInt64(UInt32(bitPattern: value)), into: dst)
                } else {
                    loadConstant(UInt64(bitPattern: Int64(value)), into: dst)
                }
            }
        case .lsh, .rsh, .arsh:
            compileShift(op, width, dst: dst, source: operand)
        case .div, .sdiv, .mod, .smod:
            compileDivision(op, width, dst: dst, source: operand)
        }
    }

    /// Shifts: the count is masked to the width (the CPU does the same for register counts).
    private mutating func compileShift(_ op: ALUOperation, _ width: OperandWidth, dst: Register, source operand: Operand) {
        let size = size(width)
        let d = reg(dst)
        defer { setZeroExtended(dst, width == .bits32 || (op == .rsh && isShiftRightByAtLeast32(width, operand))) }
        if case .immediate(let value) = operand, !options.blindsConstants {
            let count = UInt8(truncatingIfNeeded: value) & (width == .bits64 ? 63 : 31)
            if count == 0 {
                if width == .bits32 { zeroExtend(dst) }
                return
            }
            let operation: X86Assembler.ShiftOperation = op == .lsh ? .shl : op == .rsh ? .shr : .sar
            asm.shift(operation, size, d, immediate: count)
            return
        }
        let count: X86Register
        switch source(operand) {
        case .register(let register): count = register
        case .immediate: preconditionFailure("immediates reach here only blinded, in a register")
        }
        if features.bmi2 {
            let operation: X86Assembler.BMI2Shift = op == .lsh ? .shlx : op == .rsh ? .shrx : .sarx
            asm.shift(operation, size, d, d, count: count)
            return
        }
        // Without BMI2 the count goes through cl, which holds r4: keep r4 in r10 meanwhile.
        let operation: X86Assembler.ShiftOperation = op == .lsh ? .shl : op == .rsh ? .shr : .sar
        if count == .rcx {
            asm.shiftByCL(operation, size, d)
        } else if d == .rcx {
            asm.mov(.qword, RegisterMap.scratch2, .rcx)
            asm.mov(.qword, .rcx, count)
            asm.shiftByCL(operation, size, RegisterMap.scratch2)
            asm.mov(.qword, .rcx, RegisterMap.scratch2)
        } else {
            asm.mov(.qword, RegisterMap.scratch2, .rcx)
            asm.mov(.qword, .rcx, count)
            asm.shiftByCL(operation, size, d)
            asm.mov(.qword, .rcx, RegisterMap.scratch2)
        }
    }

    private func isShiftRightByAtLeast32(_ width: OperandWidth, _ operand: Operand) -> Bool {
        guard width == .bits64, case .immediate(let value) = operand else { return false }
        return value & 63 >= 32
    }

    /// Division and modulo, signed and unsigned, with the interpreter's answers where x86 would
    /// fault: by zero the quotient is 0 and the remainder the dividend; `INT_MIN / -1` wraps to
    /// `INT_MIN` and `INT_MIN % -1` is 0. rax and rdx (r0 and r3) are kept in r10 and r9 around
    /// the `div`.
    private mutating func compileDivision(_ op: ALUOperation, _ width: OperandWidth, dst: Register, source operand: Operand) {
        let size = size(width)
        let d = reg(dst)
        let isSigned = op == .sdiv || op == .smod
        let isModulo = op == .mod || op == .smod
        var knownNonZero = false, knownNotMinusOne = false
        let divisor = RegisterMap.scratch
        switch operand {
        case .immediate(let value):
            if value == 0 {
                if isModulo { if width == .bits32 { zeroExtend(dst) } } else { loadConstant(0, into: dst) }
                return
            }
            if isSigned && value == -1 {
                if isModulo { loadConstant(0, into: dst) } else { asm.neg(size, d); setZeroExtended(dst, width == .bits32) }
                return
            }
            // An unsigned power of two: a shift or a mask.
            let unsigned = width == .bits64 ? UInt64(bitPattern: Int64(value)) : UInt64(UInt32(bitPattern: value))
            if !isSigned && !options.blindsConstants && unsigned & (unsigned - 1) == 0 {
                let shift = UInt8(unsigned.trailingZeroBitCount)
                if isModulo {
                    compileALU(.and, width, dst: dst, source: .immediate(Int32(truncatingIfNeeded: unsigned - 1)))
                } else {
                    compileALU(.rsh, width, dst: dst, source: .immediate(Int32(shift)))
                }
                return
            }
            knownNonZero = true
            knownNotMinusOne = true
            if options.blindsConstants { materialize(value) } else { asm.mov(divisor, signExtending: value) }
        case .register(let src):
            asm.mov(size, divisor, reg(src))
        }
        let special = asm.newLabel(), done = asm.newLabel()
        var minusOne: Label?
        if !knownNonZero {
            asm.test(size, divisor, divisor)
            asm.j(.equal, special)
        }
        if isSigned && !knownNotMinusOne {
            let label = asm.newLabel()
            asm.alu(.cmp, size, divisor, immediate: -1)
            asm.j(.equal, label)
            minusOne = label
        }
        if d != .rax { asm.mov(.qword, RegisterMap.scratch2, .rax) }
        if d != .rdx { asm.mov(.qword, RegisterMap.scratch3, .rdx) }
        if d != .rax { asm.mov(size, .rax, d) }
        if isSigned { asm.signExtendAccumulator(size) } else { asm.alu(.xor, .dword, .rdx, .rdx) }
        if isSigned { asm.idiv(size, divisor) } else { asm.div(size, divisor) }
        let result: X86Register = isModulo ? .rdx : .rax
        if d != result { asm.mov(size, d, result) }
        if d != .rax { asm.mov(.qword, .rax, RegisterMap.scratch2) }
        if d != .rdx { asm.mov(.qword, .rdx, RegisterMap.scratch3) }
        if !knownNonZero || minusOne != nil { asm.jmp(done) }
        if !knownNonZero {
            // By zero: the quotient is 0, the remainder the dividend.
            asm.bind(special)
            if isModulo {
                if width == .bits32 { asm.mov(.dword, d, d) }
            } else {
                asm.alu(.xor, .dword, d, d)
            }
            if minusOne != nil { asm.jmp(done) }
        }
        if let minusOne {
            // By -1: the quotient is the negated dividend (INT_MIN stays INT_MIN), the remainder 0.
            asm.bind(minusOne)
            if isModulo { asm.alu(.xor, .dword, d, d) } else { asm.neg(size, d) }
        }
        asm.bind(done)
        setZeroExtended(dst, width == .bits32)
    }

    /// `le`, `be` and `bswap` of 16, 32 or 64 bits (results zero-extended).
    mutating func compileByteSwap(_ kind: ByteSwap, dst: Register, bits: Int) {
        let d = reg(dst)
        switch (kind, bits) {
        case (.toLittleEndian, 16):
            asm.movzx(d, .word, .register(d))
        case (.toLittleEndian, 32):
            zeroExtend(dst)
        case (.toLittleEndian, _):
            return
        case (_, 16):
            asm.shift(.rol, .word, d, immediate: 8)
            asm.movzx(d, .word, .register(d))
        case (_, 32):
            asm.bswap(.dword, d)
        default:
            asm.bswap(.qword, d)
        }
        setZeroExtended(dst, bits < 64)
    }
}
