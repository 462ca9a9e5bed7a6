import JIT

/// A hook's permanent entry, made when the hook is first attached and never freed: the patch
/// site jumps here. It counts the thread in (`depth`), then jumps to the hook's current
/// trampoline through one patchable `jmp rel32`; trampolines return through its exit, which
/// counts the thread out. Because both counting instructions live here and not in a
/// trampoline, a thread is counted whenever it can be in or return into one: what lets an old
/// trampoline be freed safely. With nothing attached, the jmp goes to a pass-through that
/// calls the original.
///
/// The first time a thread enters any hook it registers itself (so the reclaimer sees it).
final class EntryStub: @unchecked Sendable {
    /// Where the site jumps.
    let entry: UInt64
    /// Where trampolines jump to return.
    let exit: UInt64
    /// The patchable `jmp rel32` (inside one aligned 8-byte word).
    let jump: UInt64
    /// The pass-through the jmp targets while nothing is attached.
    let passThrough: UInt64
    private let memory: ExecutableMemory

    init(hook: String, index: Int, site: UInt64, original: UInt64) throws(AttachError) {
        let register = ThreadState.registerAddress
        // The patchable jmp must sit in one aligned word: lay the stub out, then pad its start.
        var padding = 0
        while true {
            var asm = X86Assembler()
            let positions = Self.emit(&asm, padding: padding, index: index, original: original, register: register)
            let layout = asm.layout()
            let jumpOffset = layout.offset(of: positions.jump)
            if jumpOffset % 8 > 3 {
                padding += 8 - jumpOffset % 8
                continue
            }
            do {
                memory = try ExecutableMemory(size: layout.size, near: [site, original, register], faults: []) { pointer, base in
                    try asm.encode(layout, into: pointer, base: base)
                }
            } catch {
                throw .codeMemory(hook: hook, reason: "\(error)")
            }
            let base = UInt64(UInt(bitPattern: memory.base))
            entry = base + UInt64(layout.offset(of: positions.entry))
            exit = base + UInt64(layout.offset(of: positions.exit))
            jump = base + UInt64(jumpOffset)
            passThrough = base + UInt64(layout.offset(of: positions.passThrough))
            return
        }
    }

    /// The stub's jmp retargeted to `target`.
    func jumpBytes(to target: UInt64) -> [UInt8] { HookSite.jump(from: jump, to: target) }

    private static func emit(_ asm: inout X86Assembler, padding: Int, index: Int, original: UInt64, register: UInt64)
        -> (entry: X86Assembler.Position, exit: X86Assembler.Position, jump: X86Assembler.Position,
            passThrough: X86Assembler.Position)
    {
        let argumentRegisters: [X86Register] = [.rdi, .rsi, .rdx, .rcx, .r8, .r9, .rax]
        let slow = asm.newLabel(), resume = asm.newLabel(), exitLabel = asm.newLabel(), passLabel = asm.newLabel()
        var remaining = padding
        while remaining > 0 {
            asm.int3()
            remaining -= 1
        }
        // Entry: r10 and r11 are free at a function's entry (no arguments live in them).
        let entry = asm.position
        asm.loadThreadPointer(.r11)
        asm.alu(.cmp, .qword, MemoryOperand(.r11, ThreadState.registered), immediate: 0)
        asm.j(.equal, slow)
        asm.bind(resume)
        asm.alu(.add, .qword, MemoryOperand(.r11, ThreadState.depth(index)), immediate: 1)
        let jump = asm.position
        asm.jmpRel32(passLabel)  // retargeted at each attach and detach
        asm.int3()
        // Pass-through: call the original (stack realigned), then leave through the exit.
        asm.bind(passLabel)
        let passThrough = asm.position
        asm.alu(.sub, .qword, .rsp, immediate: 8)
        asm.call(absolute: original)
        asm.alu(.add, .qword, .rsp, immediate: 8)
        asm.jmp(exitLabel)
        // Exit: count the thread out; back to the hook's caller.
        asm.bind(exitLabel)
        let exit = asm.position
        asm.loadThreadPointer(.r11)
        asm.alu(.sub, .qword, MemoryOperand(.r11, ThreadState.depth(index)), immediate: 1)
        let done = asm.newLabel()
        asm.j(.notEqual, done)
        asm.alu(.add, .qword, MemoryOperand(.r11, ThreadState.quiescent(index)), immediate: 1)
        asm.bind(done)
        asm.ret()
        // First entry of this thread: register it, keeping the argument registers.
        asm.bind(slow)
        for register in argumentRegisters { asm.push(register) }
        asm.call(absolute: register)
        for register in argumentRegisters.reversed() { asm.pop(register) }
        asm.loadThreadPointer(.r11)
        asm.jmp(resume)
        return (entry, exit, jump, passThrough)
    }
}
