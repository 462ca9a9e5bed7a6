import BPFVM

/// Translates one program into x86-64 code, instruction by instruction with the interpreter's
/// semantics, into an `X86Assembler`: an entry stub (the C-callable entry: sets up r12, the run
/// block, and what unwinding needs), then each BPF function as a native function with its own
/// frame (the callee-saved registers it uses, rbp as r10 when it uses the stack).
///
/// Code quality: immediates folded into instructions, branches as short as they reach (the
/// assembler), no zero-extension where the upper half is already known zero (tracked per
/// register within straight-line code), BMI2 shifts when the CPU has them, prologues that
/// save only what the function touches.
struct ProgramCompiler {
    /// The assembler the code goes into (several programs compiled together share one).
    var asm: X86Assembler
    let program: Program
    let shape: ProgramShape
    let helpers: HelperTable
    let options: JITOptions
    let features: CPUFeatures
    /// Helpers are called through `movabs r11; call r11` (no executable memory could be found
    /// within reach of the host's code).
    let farCalls: Bool
    let tailCallID: Int32?, loopID: Int32?, unwindID: Int32?
    /// Whether the entry stub keeps what unwinding from any depth needs (a trap, the unwind
    /// helper, a tail-called program that may do either).
    let canUnwind: Bool
    /// The calls the loader poisoned (unresolved CO-RE relocations, weak kfuncs): each traps if
    /// it runs (the verifier proved a verified program never reaches one).
    let poisoned: Set<Int>
    /// The loads that must read 0 instead of faulting (fault-safe host-pointer loads).
    let faultSafeLoads: Set<Int>

    /// The operation starting at each slot (nil for the second slot of an `lddw`).
    private let operations: [Operation?]
    /// Labels of jump targets, by slot.
    private var slotLabels: [Label?]
    /// The entry of each function, by function number.
    private var functionLabels: [Label] = []
    /// The epilogue of the function being compiled.
    private var exitLabel: Label
    private var function: ProgramShape.Function
    var functionNumber = 0
    private(set) var unwindLabel: Label
    private(set) var trapLabel: Label
    /// The table `callx` reads helper addresses from (after the code), when the program has one.
    var helperTableLabel: Label?
    /// Entries in that table: ids 0 up to the largest registered id.
    var helperTableCount: Int { Int(helpers.all.last.map { $0.id + 1 } ?? 0) }
    /// Where each slot's code starts (nil for the second slot of an `lddw`).
    private(set) var slotPositions: [X86Assembler.Position?]
    /// Where data after the instructions starts (the helper table of `callx`), if there is any.
    private(set) var dataPosition: X86Assembler.Position?
    /// The position of each function's entry, by function number.
    private(set) var functionPositions: [X86Assembler.Position] = []
    /// Fault-safe loads: the load, the instruction after it, the register that reads 0.
    var faults: [(load: X86Assembler.Position, resume: X86Assembler.Position, register: X86Register)] = []
    /// The absolute addresses called (helpers, the runtime), which the code must reach.
    var callTargets: Set<UInt64> = []
    /// BPF registers (bit n = rN) whose upper 32 bits are known to be zero here.
    var zeroExtended: UInt16 = 0
    /// The value of each BPF register where it is a known constant (set by `lddw` or `mov`).
    var constants: [UInt64?] = Array(repeating: nil, count: 11)
    /// The maps of the program's object (whose array lookups may be compiled inline).
    let maps: [Map]
    /// The id the standard `map_lookup_elem` has in the program's helpers, if it is bound.
    let lookupHelperID: Int32?
    /// The state of the blinding keys' generator.
    private var keyState: UInt64

    /// Where the entry stub starts: the C-callable entry.
    private(set) var entryPosition: X86Assembler.Position

    init(program: Program, shape: ProgramShape, helpers: HelperTable, maps: [Map], faultSafeLoads: Set<Int>,
         options: JITOptions, features: CPUFeatures, farCalls: Bool, into assembler: X86Assembler)
    {
        self.maps = maps
        let standardLookup = StandardHelpers.table[1]?.function.map(Self.address(of:))
        lookupHelperID = standardLookup != nil && helpers[1]?.function.map(Self.address(of:)) == standardLookup ? 1 : nil
        asm = assembler
        entryPosition = assembler.position
        self.program = program
        self.shape = shape
        self.helpers = helpers
        self.faultSafeLoads = faultSafeLoads
        self.options = options
        self.features = features
        self.farCalls = farCalls
        func engineID(_ operation: EngineOperation) -> Int32? {
            let id = helpers.id(of: operation)
            return id == .max ? nil : Int32(id)
        }
        tailCallID = engineID(.tailCall)
        loopID = engineID(.loop)
        unwindID = helpers.unwindHelperID
        poisoned = Set(program.metadata.poisoned.map(\.instructionIndex))
        var unwinds = !poisoned.isEmpty
        for (_, operation) in program.operations {
            switch operation {
            case .call(.register): unwinds = true
            case .call(.helper(let id)) where id == unwindID || id == tailCallID: unwinds = true
            default: break
            }
        }
        canUnwind = unwinds
        var operations = [Operation?](repeating: nil, count: program.instructions.count)
        for (index, operation) in program.operations { operations[index] = operation }
        self.operations = operations
        slotLabels = Array(repeating: nil, count: program.instructions.count)
        slotPositions = Array(repeating: nil, count: program.instructions.count)
        exitLabel = asm.newLabel()
        unwindLabel = asm.newLabel()
        trapLabel = asm.newLabel()
        function = shape.functions[0]
        // Blinding keys come from the system's generator (not needed, and not asked for, otherwise).
        if options.blindsConstants {
            var seed = SystemRandomNumberGenerator()
            keyState = seed.next()
        } else {
            keyState = 0
        }
    }

    // MARK: Program

    /// Emits the entry stub and every function.
    mutating func compile() throws(JITError) {
        functionLabels = shape.functions.map { _ in asm.newLabel() }
        entryPosition = asm.position
        emitEntryStub()
        for (number, function) in shape.functions.enumerated() {
            try compileFunction(number, function)
        }
        if let helperTableLabel {
            dataPosition = asm.position
            asm.bind(helperTableLabel)
            for id in 0..<helperTableCount {
                asm.data(helpers[Int32(id)]?.function.map(Self.address(of:)) ?? 0)
            }
        }
    }

    /// The C-callable entry `(r1, r2, r3, r4, r5, run) -> r0`: keeps r12 (and, when the program
    /// can unwind, every callee-saved register and the stack pointer to unwind to), points r12
    /// at the run block, and calls the entry function.
    private mutating func emitEntryStub() {
        let restore = asm.newLabel()
        asm.push(.r12)
        asm.mov(.qword, RegisterMap.run, .r9)
        if canUnwind {
            for register in Self.unwindSaved { asm.push(register) }
            asm.alu(.sub, .qword, .rsp, immediate: 8)
            asm.mov(.qword, MemoryOperand(RegisterMap.run, JITRun.savedStackOffset), .rsp)
        }
        asm.call(functionLabels[0])
        asm.bind(restore)
        if canUnwind {
            asm.alu(.add, .qword, .rsp, immediate: 8)
            for register in Self.unwindSaved.reversed() { asm.pop(register) }
        }
        asm.pop(.r12)
        asm.ret()
        guard canUnwind else { return }
        // Unwinding: r0 is in rax; back to the stub's frame from any depth.
        asm.bind(unwindLabel)
        asm.mov(.qword, .rsp, MemoryOperand(RegisterMap.run, JITRun.savedStackOffset))
        asm.jmp(restore)
        // A trap: the helper id in r11, the instruction in r10.
        asm.bind(trapLabel)
        asm.mov(.qword, MemoryOperand(RegisterMap.run, JITRun.trapValueOffset), RegisterMap.scratch)
        asm.mov(.qword, MemoryOperand(RegisterMap.run, JITRun.trapIndexOffset), RegisterMap.scratch2)
        asm.mov(.qword, MemoryOperand(RegisterMap.run, JITRun.trappedOffset), immediate: 1)
        asm.jmp(unwindLabel)
    }

    /// The callee-saved registers an unwinding entry stub keeps (r12 is kept by every stub).
    static let unwindSaved: [X86Register] = [.rbx, .rbp, .r13, .r14, .r15]

    // MARK: Functions

    /// Bytes the prologue moves rsp down by after its pushes (the BPF stack, and padding that
    /// keeps calls 16-byte aligned).
    private var frameAdjustment: Int32 {
        let pushes = function.savedRegisters.count + (function.usesFramePointer ? 1 : 0)
        var frame = function.usesFramePointer ? function.stackSize : 0
        if function.makesCalls && (8 + 8 * pushes + frame) % 16 != 0 { frame += 8 }
        return Int32(frame)
    }

    private mutating func compileFunction(_ number: Int, _ function: ProgramShape.Function) throws(JITError) {
        self.function = function
        functionNumber = number
        exitLabel = asm.newLabel()
        asm.bind(functionLabels[number])
        functionPositions.append(asm.position)
        for register in function.savedRegisters { asm.push(register) }
        if function.usesFramePointer {
            asm.push(.rbp)
            asm.mov(.qword, .rbp, .rsp)
        }
        if frameAdjustment > 0 { asm.alu(.sub, .qword, .rsp, immediate: frameAdjustment) }
        forgetRegisters()
        var index = function.start
        while index < function.end {
            guard let operation = operationAt(index) else { index += 1; continue }
            if shape.isJumpTarget[index] {
                asm.bind(label(index))
                forgetRegisters()
            }
            slotPositions[index] = asm.position
            let next = index + operation.slotCount
            if next < function.end, !shape.isJumpTarget[next], let following = operationAt(next) {
                let last = next + following.slotCount
                if last < function.end, !shape.isJumpTarget[last], let third = operationAt(last),
                   compileAddressedLoad(operation, following, third, at: last)
                {
                    slotPositions[next] = asm.position
                    slotPositions[last] = asm.position
                    index = last + third.slotCount
                    continue
                }
                if compileFused(operation, following, at: index) {
                    slotPositions[next] = asm.position
                    index = last
                    continue
                }
            }
            try compile(operation, at: index)
            index = next
        }
        asm.bind(exitLabel)
        emitEpilogue()
        asm.ret()
    }

    /// Undoes the prologue (without the `ret`: a tail call jumps instead).
    mutating func emitEpilogue() {
        if function.usesFramePointer {
            asm.leave()
        } else if frameAdjustment > 0 {
            asm.alu(.add, .qword, .rsp, immediate: frameAdjustment)
        }
        for register in function.savedRegisters.reversed() { asm.pop(register) }
    }

    private func operationAt(_ index: Int) -> Operation? { operations[index] }

    /// The label of the instruction at `slot`.
    private mutating func label(_ slot: Int) -> Label {
        if let existing = slotLabels[slot] { return existing }
        let made = asm.newLabel()
        slotLabels[slot] = made
        return made
    }

    // MARK: Instructions

    /// What is known of registers in straight-line code is forgotten where control flow joins.
    private mutating func forgetRegisters() {
        zeroExtended = 0
        constants = Array(repeating: nil, count: 11)
    }

    /// Two operations compiled as one instruction sequence (the second is not a jump target):
    /// a conditional jump over an unconditional one becomes the opposite conditional jump
    /// (loops as clang writes them); `rX = rY; rX += imm` becomes `lea`; `rX <<= 32` then
    /// `rX s>>= 32` or `rX >>= 32` (how clang widens a 32-bit value before cpu v4) becomes one
    /// `movsxd` or 32-bit `mov`; an inline array lookup and the NULL check after it share one
    /// branch. Returns false when the pair is not one of these.
    private mutating func compileFused(_ first: Operation, _ second: Operation, at index: Int) -> Bool {
        switch (first, second) {
        case let (.branch(condition, width, dst, source, 1), .jump(offset)):
            let code = compare(condition, width, dst: dst, source: source)
            asm.j(code.negated, label(index + 2 + Int(offset)))
            return true
        case let (.call(.helper(id)), .branch(.eq, .bits64, .r0, .immediate(0), offset))
            where id == lookupHelperID && !poisoned.contains(index):
            // A lookup on a known array map and its NULL check: a missing key jumps straight to
            // the check's target (with r0 = 0).
            guard let map = constants[1].flatMap({ arrayMap(at: $0) }) else { return false }
            compileArrayLookup(map, missing: label(index + 2 + Int(offset)))
            for register in 0...5 { constants[register] = nil }
            zeroExtended &= ~0x3f
            return true
        case let (.alu(.lsh, .bits64, dst, .immediate(32)), .alu(.arsh, .bits64, dst2, .immediate(32))) where dst == dst2:
            asm.movsx(.qword, reg(dst), .dword, .register(reg(dst)))
            setZeroExtended(dst, false)
            constants[Int(dst.rawValue)] = nil
            return true
        case let (.alu(.lsh, .bits64, dst, .immediate(32)), .alu(.rsh, .bits64, dst2, .immediate(32))) where dst == dst2:
            zeroExtend(dst)
            setZeroExtended(dst, true)
            constants[Int(dst.rawValue)] = nil
            return true
        case let (.alu(.mov, .bits64, dst, .register(src)), .alu(.add, .bits64, dst2, .immediate(value)))
            where dst == dst2 && !options.blindsConstants:
            asm.lea(reg(dst), MemoryOperand(reg(src), value))
        case let (.alu(.mov, .bits64, dst, .register(src)), .alu(.add, .bits64, dst2, .register(addend)))
            where dst == dst2 && addend != dst:
            asm.lea(reg(dst), MemoryOperand(reg(src), index: reg(addend), scale: 1))
        default:
            return false
        }
        // The `lea` forms: dst is written.
        if case let .alu(_, _, dst, _) = first {
            setZeroExtended(dst, false)
            constants[Int(dst.rawValue)] = nil
        }
        return true
    }

    /// `rX = rY; rX += rZ (or imm); rX = *(size *)(rX + off)`, how clang indexes memory, as one
    /// load from `[rY + rZ + off]` (rX is overwritten by the load, so its sum is never needed).
    /// Returns false when the three are not that.
    private mutating func compileAddressedLoad(_ first: Operation, _ second: Operation, _ third: Operation,
                                               at loadIndex: Int) -> Bool
    {
        guard case let .alu(.mov, .bits64, dst, .register(base)) = first, base != dst,
              case let .alu(.add, .bits64, dst2, addend) = second, dst2 == dst,
              case let .load(size, loaded, address, offset, signExtend) = third, loaded == dst, address == dst
        else { return false }
        let memory: MemoryOperand
        switch addend {
        case .register(let index) where index != dst:
            memory = MemoryOperand(reg(base), index: reg(index), scale: 1, Int32(offset))
        case .immediate(let value) where !options.blindsConstants:
            let displacement = Int64(value) + Int64(offset)
            guard let fits = Int32(exactly: displacement) else { return false }
            memory = MemoryOperand(reg(base), fits)
        default:
            return false
        }
        compileLoad(size, dst: dst, from: memory, signExtend: signExtend, faultSafe: faultSafeLoads.contains(loadIndex))
        constants[Int(dst.rawValue)] = nil
        return true
    }

    private mutating func compile(_ operation: Operation, at index: Int) throws(JITError) {
        var written = ProgramShape.registersWritten(by: operation)
        defer {
            while written != 0 {
                constants[written.trailingZeroBitCount] = nil
                written &= written - 1
            }
            switch operation {
            case let .loadImmediate64(.immediate, dst, value): constants[Int(dst.rawValue)] = value
            case let .alu(.mov, .bits64, dst, .immediate(value)): constants[Int(dst.rawValue)] = UInt64(bitPattern: Int64(value))
            default: break
            }
        }
        switch operation {
        case let .alu(op, width, dst, source):
            compileALU(op, width, dst: dst, source: source)
        case let .negate(width, dst):
            asm.neg(size(width), reg(dst))
            setZeroExtended(dst, width == .bits32)
        case let .moveSignExtend(width, dst, src, bits):
            let source: OperandSize = bits == 8 ? .byte : bits == 16 ? .word : .dword
            asm.movsx(size(width), reg(dst), source, .register(reg(src)))
            setZeroExtended(dst, width == .bits32)
        case let .byteSwap(kind, dst, bits):
            compileByteSwap(kind, dst: dst, bits: bits)
        case let .loadImmediate64(kind, dst, value):
            if kind == .codeAddress {
                let target = index + 1 + Int(Int32(truncatingIfNeeded: value))
                asm.lea(reg(dst), functionLabels[shape.functionOfSlot[target]])
                setZeroExtended(dst, false)
            } else {
                loadConstant(value, into: dst)
            }
        case let .load(memorySize, dst, src, offset, signExtend):
            compileLoad(memorySize, dst: dst, from: MemoryOperand(reg(src), Int32(offset)), signExtend: signExtend,
                        faultSafe: faultSafeLoads.contains(index))
        case let .storeImmediate(memorySize, dst, offset, value):
            let memory = MemoryOperand(reg(dst), Int32(offset))
            if options.blindsConstants {
                materialize(value)
                asm.mov(OperandSize(memorySize), memory, RegisterMap.scratch)
            } else {
                asm.mov(OperandSize(memorySize), memory, immediate: value)
            }
        case let .store(memorySize, dst, src, offset):
            asm.mov(OperandSize(memorySize), MemoryOperand(reg(dst), Int32(offset)), reg(src))
        case let .atomic(op, fetch, memorySize, dst, src, offset):
            compileAtomic(op, fetch: fetch, OperandSize(memorySize), dst: dst, src: src, offset: offset)
        case .jump(let offset):
            asm.jmp(label(index + 1 + Int(offset)))
        case .jumpLong(let offset):
            asm.jmp(label(index + 1 + Int(offset)))
        case let .branch(condition, width, dst, source, offset):
            compileBranch(condition, width, dst: dst, source: source, target: label(index + 1 + Int(offset)))
        case .call(.helper(let id)):
            try compileHelperCall(id, at: index)
        case .call(.local(let offset)):
            asm.call(functionLabels[shape.functionOfSlot[index + 1 + Int(offset)]])
            zeroExtended &= ~0x3f
        case .call(.register(let register)):
            compileCallX(reg(register), at: index)
        case .call(.kfunc(let id)):
            throw JITError(.kfuncCall(id), at: index)
        case .exit:
            asm.jmp(exitLabel)
        }
    }

    // MARK: Operand helpers

    @inline(__always) func reg(_ register: Register) -> X86Register { RegisterMap.of(register) }
    @inline(__always) func size(_ width: OperandWidth) -> OperandSize { width == .bits64 ? .qword : .dword }

    mutating func setZeroExtended(_ register: Register, _ known: Bool) {
        if known { zeroExtended |= 1 << register.rawValue } else { zeroExtended &= ~(1 << register.rawValue) }
    }

    func isZeroExtended(_ register: Register) -> Bool { zeroExtended & (1 << register.rawValue) != 0 }

    /// Clears the upper half of `register` unless it is known to be clear already.
    mutating func zeroExtend(_ register: Register) {
        if !isZeroExtended(register) { asm.mov(.dword, reg(register), reg(register)) }
        setZeroExtended(register, true)
    }

    /// A fresh 32-bit blinding key.
    private mutating func nextKey() -> Int32 {
        keyState = keyState &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int32(truncatingIfNeeded: keyState >> 32)
    }

    /// Puts `value`, sign-extended to 64 bits, into r11 without the value itself appearing in
    /// the code (blinded with a fresh key).
    mutating func materialize(_ value: Int32) {
        let key = nextKey()
        asm.mov(RegisterMap.scratch, signExtending: value ^ key)
        asm.alu(.xor, .qword, RegisterMap.scratch, immediate: key)
    }

    /// The second operand of an ALU or jump instruction as the machine code takes it: a
    /// register, or the immediate itself (in r11 when constants are blinded).
    enum Source {
        case register(X86Register)
        case immediate(Int32)
    }

    mutating func source(_ operand: Operand) -> Source {
        switch operand {
        case .register(let register): return .register(reg(register))
        case .immediate(let value):
            guard options.blindsConstants else { return .immediate(value) }
            materialize(value)
            return .register(RegisterMap.scratch)
        }
    }

    /// `dst = value` (lddw, mov of an immediate) in the shortest form.
    mutating func loadConstant(_ value: UInt64, into dst: Register) {
        let d = reg(dst)
        if options.blindsConstants && value != 0 {
            var generator = SystemRandomNumberGenerator()
            let key = UInt64(truncatingIfNeeded: nextKey()) << 32 ^ generator.next()
            asm.movabs(d, value ^ key)
            asm.movabs(RegisterMap.scratch, key)
            asm.alu(.xor, .qword, d, RegisterMap.scratch)
        } else if value == 0 {
            asm.alu(.xor, .dword, d, d)
        } else if value <= UInt64(UInt32.max) {
            asm.mov(d, zeroExtending: UInt32(value))
        } else if let small = Int32(exactly: Int64(bitPattern: value)) {
            asm.mov(d, signExtending: small)
        } else {
            asm.movabs(d, value)
        }
        setZeroExtended(dst, value <= UInt64(UInt32.max))
    }
}

extension OperandSize {
    /// The x86 size of a BPF memory access.
    init(_ size: MemorySize) {
        switch size {
        case .byte: self = .byte
        case .half: self = .word
        case .word: self = .dword
        case .doubleWord: self = .qword
        }
    }
}
