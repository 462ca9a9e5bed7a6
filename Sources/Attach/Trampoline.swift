import JIT

/// One hook's trampoline: machine code generated for the exact list of programs attached at one
/// moment, entered by `jmp` from the hook's entry stub (so the return address on the stack is the
/// hook's caller's: calls and returns stay paired), calling the original and every program with
/// direct `call rel32`, and returning through the stub's exit. Never changed once made: every
/// attach and detach makes a new one. Keeps its programs alive while it may run.
///
/// What it does (ARCHITECTURE.md, "Attach semantics"):
/// 1. if this thread is already running this hook's programs (a program called the hook again),
///    count a miss and just call the original;
/// 2. save the arguments into `u64` slots (integers widened as their types say), `nargs` at ctx-8;
/// 3. fentry programs; 4. fmod_ret programs (rc slot 0 first; the first non-zero return, a
///    32-bit value sign-extended as the verifier checked it, skips the rest and the original and
///    becomes rc); 5. otherwise the original (arguments
///    reloaded), its return widened into rc; 6. fexit-class programs in attach order: `lsm` only
///    while rc is 0 and its return (32-bit, sign-extended) replaces rc; `fexit` only observes;
/// 7. return rc.
final class Trampoline: @unchecked Sendable {
    /// The most programs one trampoline calls (the kernel's BPF_MAX_TRAMP_LINKS on x86-64).
    static let maximumPrograms = 38

    let programs: [AttachedProgram]
    let address: UInt64
    private let memory: ExecutableMemory

    /// What a trampoline is built from.
    struct Plan {
        var hookIndex: Int
        var descriptor: HookDescriptor
        var original: UInt64
        var exit: UInt64
        /// Incremented (`lock xadd`) on each recursion-guard miss.
        var missCounter: UnsafeMutablePointer<UInt64>
        var programs: [AttachedProgram]
        var statistics: Bool
    }

    init(_ plan: Plan) throws(AttachError) {
        var asm = X86Assembler(capacity: 256 + 96 * plan.programs.count)
        TrampolineEmitter(plan: plan).emit(into: &asm)
        let layout = asm.layout()
        let targets = [plan.original, plan.exit] + plan.programs.flatMap(\.callTargets)
        do {
            memory = try ExecutableMemory(size: layout.size, near: targets, faults: []) { pointer, base in
                try asm.encode(layout, into: pointer, base: base)
            }
        } catch {
            throw .codeMemory(hook: plan.descriptor.name, reason: "\(error)")
        }
        programs = plan.programs
        address = UInt64(UInt(bitPattern: memory.base))
    }

    /// The code's bytes (for dumps and tests).
    var code: [UInt8] { memory.bytes }
}

/// Writes a trampoline's code for a plan.
private struct TrampolineEmitter {
    let plan: Trampoline.Plan
    /// rbp-relative offsets of the frame (below the saved rbx and r12).
    let statsStart: Int32 = -24
    let savedResult: Int32 = -32
    var slotCount: Int { plan.descriptor.parameters.count + 1 }
    var context: Int32 { savedResult - Int32(8 * slotCount) }
    var returnSlot: MemoryOperand { MemoryOperand(.rbp, context + Int32(8 * plan.descriptor.parameters.count)) }
    /// Bytes below the pushes: scratch words, nargs, slots and the JIT run block, 16-aligned.
    var frameSize: Int32 { Int32((16 + 8 + 8 * slotCount + runBlockSize + 15) / 16 * 16) }
    let runBlockSize = 128

    static let argumentRegisters: [X86Register] = [.rdi, .rsi, .rdx, .rcx, .r8, .r9]

    func emit(into asm: inout X86Assembler) {
        let descriptor = plan.descriptor
        let active = MemoryOperand(.rbx, ThreadState.active(plan.hookIndex))
        let miss = asm.newLabel(), epilogue = asm.newLabel(), storeResult = asm.newLabel()
        // Prologue: entered by jmp, rsp = 8 mod 16.
        asm.push(.rbp)
        asm.mov(.qword, .rbp, .rsp)
        asm.push(.rbx)
        asm.push(.r12)
        asm.alu(.sub, .qword, .rsp, immediate: frameSize)
        asm.mov(.qword, .r12, .rsp)
        asm.loadThreadPointer(.rbx)
        asm.movzx(.r10, .byte, .memory(active))
        asm.test(.dword, .r10, .r10)
        asm.j(.notEqual, miss)
        asm.mov(.byte, active, immediate: 1)
        // Argument slots, and nargs below them.
        for (number, parameter) in descriptor.parameters.enumerated() {
            let slot = MemoryOperand(.rbp, context + Int32(8 * number))
            widen(&asm, Self.argumentRegisters[number], parameter.width)
            asm.mov(.qword, slot, .rax)
        }
        asm.mov(.qword, MemoryOperand(.rbp, context - 8), immediate: Int32(descriptor.parameters.count))
        for program in plan.programs where program.kind == .fentry {
            call(&asm, program)
        }
        let modifiers = plan.programs.filter { $0.kind == .fmodReturn }
        if !modifiers.isEmpty {
            asm.mov(.qword, returnSlot, immediate: 0)
            for program in modifiers {
                call(&asm, program)
                asm.movsx(.qword, .rax, .dword, .register(.rax))
                asm.test(.qword, .rax, .rax)
                asm.j(.notEqual, storeResult)
            }
        }
        // The original, with the arguments as the slots hold them (widened: the same values).
        asm.mov(.byte, active, immediate: 0)
        for number in descriptor.parameters.indices {
            asm.mov(.qword, Self.argumentRegisters[number], MemoryOperand(.rbp, context + Int32(8 * number)))
        }
        asm.call(absolute: plan.original)
        asm.mov(.byte, active, immediate: 1)
        widen(&asm, .rax, descriptor.returnWidth)
        asm.bind(storeResult)
        asm.mov(.qword, returnSlot, .rax)
        for program in plan.programs where program.kind.isExitClass {
            let skip = asm.newLabel()
            if program.kind.isGated {
                asm.alu(.cmp, .qword, returnSlot, immediate: 0)
                asm.j(.notEqual, skip)
            }
            call(&asm, program)
            if program.kind.overrides {
                asm.movsx(.qword, .rax, .dword, .register(.rax))
                asm.mov(.qword, returnSlot, .rax)
            }
            asm.bind(skip)
        }
        asm.mov(.byte, active, immediate: 0)
        asm.mov(.qword, .rax, returnSlot)
        asm.bind(epilogue)
        asm.lea(.rsp, MemoryOperand(.rbp, -16))
        asm.pop(.r12)
        asm.pop(.rbx)
        asm.pop(.rbp)
        asm.jmp(absolute: plan.exit)
        // A hook called from one of its own programs: the original only, a miss counted.
        asm.bind(miss)
        asm.movabs(.r11, UInt64(UInt(bitPattern: plan.missCounter)))
        asm.mov(.r10, zeroExtending: 1)
        asm.alu(.add, .qword, MemoryOperand(.r11), .r10, lock: true)
        asm.call(absolute: plan.original)
        asm.jmp(epilogue)
    }

    /// `rax` = `source` widened from `width` to 64 bits.
    func widen(_ asm: inout X86Assembler, _ source: X86Register, _ width: SlotWidth) {
        switch width {
        case .signed(1): asm.movsx(.qword, .rax, .byte, .register(source))
        case .signed(2): asm.movsx(.qword, .rax, .word, .register(source))
        case .signed: asm.movsx(.qword, .rax, .dword, .register(source))
        case .unsigned(1): asm.movzx(.rax, .byte, .register(source))
        case .unsigned(2): asm.movzx(.rax, .word, .register(source))
        case .unsigned: asm.mov(.dword, .rax, source)
        case .full: if source != .rax { asm.mov(.qword, .rax, source) }
        }
    }

    /// Calls one program with r1 = the context (the slots), its return value in rax.
    func call(_ asm: inout X86Assembler, _ program: AttachedProgram) {
        if plan.statistics {
            asm.rdtsc()
            asm.shift(.shl, .qword, .rdx, immediate: 32)
            asm.alu(.or, .qword, .rax, .rdx)
            asm.mov(.qword, MemoryOperand(.rbp, statsStart), .rax)
        }
        switch program.code {
        case .compiled(let compiled):
            let template = compiled.runBlockTemplate
            precondition(template.words.count * 8 <= runBlockSize, "the JIT's run block outgrew the trampoline's room for it")
            if template.isUsed {
                for (number, word) in template.words.enumerated() {
                    let field = MemoryOperand(.r12, Int32(8 * number))
                    if 8 * number == template.stackBoundaryOffset {
                        asm.mov(.qword, field, .rbp)
                    } else if let small = Int32(exactly: Int64(bitPattern: word)) {
                        asm.mov(.qword, field, immediate: small)
                    } else {
                        asm.movabs(.r11, word)
                        asm.mov(.qword, field, .r11)
                    }
                }
            }
            // r12 is the run block for the whole trampoline: the entry function may be called
            // directly, unless the code unwinds to its stub, which takes the block in r9.
            let entry = compiled.attachEntry
            asm.lea(.rdi, MemoryOperand(.rbp, context))
            if entry.throughStub { asm.mov(.qword, .r9, .r12) }
            asm.call(absolute: entry.address)
        case .interpreted(let interpreted):
            asm.lea(.rdi, MemoryOperand(.rbp, context))
            asm.movabs(.rsi, interpreted.opaqueAddress)
            asm.call(absolute: InterpretedProgram.entryAddress)
        }
        if plan.statistics {
            asm.mov(.qword, MemoryOperand(.rbp, savedResult), .rax)
            asm.rdtsc()
            asm.shift(.shl, .qword, .rdx, immediate: 32)
            asm.alu(.or, .qword, .rax, .rdx)
            asm.mov(.qword, .r10, MemoryOperand(.rbp, statsStart))
            asm.alu(.sub, .qword, .rax, .r10)
            asm.movabs(.r11, UInt64(UInt(bitPattern: program.statistics)))
            asm.alu(.add, .qword, MemoryOperand(.r11, 8), .rax, lock: true)
            asm.mov(.rax, zeroExtending: 1)
            asm.alu(.add, .qword, MemoryOperand(.r11), .rax, lock: true)
            asm.mov(.qword, .rax, MemoryOperand(.rbp, savedResult))
        }
    }
}
