import CSystemShims

/// Whether the interpreter loop checks every instruction. The loop is generic over it, so each
/// mode compiles to its own code and trusted mode carries no checks at all.
protocol ExecutionChecks {
    static var enabled: Bool { get }
}

/// Every instruction admitted by the `Sandbox` first: the oracle mode for unverified programs.
enum CheckedExecution: ExecutionChecks {
    static var enabled: Bool { true }
}

/// No per-instruction checks: for programs a verifier has proven safe.
enum TrustedExecution: ExecutionChecks {
    static var enabled: Bool { false }
}

/// How a run of the loop ended.
enum Outcome {
    /// r0, and how much of the checked-mode budget was left.
    case returned(UInt64, remainingBudget: Int)
    case trapped(ExecutionError)

    @inline(__always)
    static func trap(_ index: Int, _ reason: ExecutionError.Reason) -> Outcome {
        .trapped(ExecutionError(index: index, reason: reason))
    }
}

/// The state a bpf-to-bpf call or a `bpf_loop` callback saves: where to return and the
/// callee-saved registers r6-r9; for a callback also the loop's progress.
struct CallFrame {
    var returnPC: UnsafePointer<Instruction>
    var r6: UInt64, r7: UInt64, r8: UInt64, r9: UInt64
    /// The callback `bpf_loop` calls on each turn (nil for a plain call).
    var callback: UnsafePointer<Instruction>?
    /// The turn running now, the number of turns, and the context passed on each.
    var turn: UInt64 = 0, turns: UInt64 = 0, callbackContext: UInt64 = 0
}

@inline(__always)
func pointer(_ address: UInt64) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: address)).unsafelyUnwrapped
}

/// Resolves a tail call: given the program-array map pointer (r2) and the index (r3), the code
/// of the program to continue with, or nil when the slot is empty or out of range (or, for an
/// `unchecked` run, holds a program not proven safe for the run's context).
typealias TailCallResolver = (_ map: UInt64, _ index: UInt64, _ unchecked: Bool) -> InterpreterCode?

/// Everything one run of the loop needs that does not change during it.
struct RunState {
    /// The first slot of the code the run starts in (for traps: indices count from here).
    var code: UnsafePointer<Instruction>
    /// The code the run starts in (the interpreter keeps it alive during the run).
    var entry: Unmanaged<InterpreterCode>
    var helpers: UnsafeBufferPointer<HelperFunction?>
    /// The ids of the helpers the engine performs itself, and of the unwind helper
    /// (`UInt64.max` for none).
    var tailCallHelperID: UInt64, loopHelperID: UInt64, unwindHelperID: UInt64
    var registers: UnsafeMutablePointer<UInt64>
    var frames: UnsafeMutablePointer<CallFrame>
    var budget: Int
    /// The run's `RunContext`, handed to every helper.
    var context: UnsafeMutableRawPointer
    var tailCall: TailCallResolver?
    /// The programs tail calls continued in, kept alive until the run ends (a program array
    /// slot may be replaced while the program in it runs); room for `maximumTailCalls`.
    var tailCallTargets: UnsafeMutablePointer<Unmanaged<InterpreterCode>?>

    /// Checked mode's shadow state. It lies at a fixed distance from the register values (see
    /// `RunLayout`), so that the loop reaches it through the pointer it already holds.
    @inline(__always)
    var sandbox: UnsafeMutablePointer<Sandbox> {
        (UnsafeMutableRawPointer(registers) + (RunLayout.sandbox - RunLayout.registers)).assumingMemoryBound(to: Sandbox.self)
    }
}

/// The state of a run that changes as it goes, kept in registers by the optimiser.
struct Cursor {
    var pc: UnsafePointer<Instruction>
    /// The code of the program now running (changes on a tail call).
    var code: UnsafePointer<Instruction>
    var depth = 0
    var remaining: Int
    var tailCalls = 0
    /// Checked mode: which registers hold numbers, pointers or nothing. The sandbox's methods
    /// take it from here by value and hand back the new one, so that it stays in a machine
    /// register.
    var registers = RegisterShadow.empty
}

/// The kernel's limit on chained tail calls (MAX_TAIL_CALL_CNT).
package let maximumTailCalls = 33
/// The most turns one `bpf_loop` may make (the kernel's BPF_MAX_LOOPS).
package let maximumLoopTurns: UInt64 = 1 << 23

/// The interpreter loop: registers in an unsafe buffer, all other state in locals. Each turn runs
/// `step` twice, so the switch, and with it the indirect jump that dispatches an instruction,
/// exists in two copies; the branch predictor then sees two dispatch sites instead of one, which
/// measurably cuts mispredictions (see `bpfrun bench`). The program was validated when it became
/// a `Program`, so every opcode seen here is valid and every jump lands inside the code.
@inline(never)
func execute<C: ExecutionChecks>(_: C.Type, _ state: RunState, entry: UnsafePointer<Instruction>) -> Outcome {
    var cursor = Cursor(pc: entry, code: state.code, remaining: state.budget)
    if C.enabled {
        cursor.registers = state.sandbox.pointee.initialRegisters
        // Checked mode runs one copy of the switch: with the sandbox's checks inlined, a second
        // copy makes the loop larger and slower (measured with `bpfrun bench`).
        while true {
            if let outcome = step(C.self, state, &cursor) { return outcome }
        }
    }
    while true {
        if let outcome = step(C.self, state, &cursor) { return outcome }
        if let outcome = step(C.self, state, &cursor) { return outcome }
    }
}

/// Executes the instruction at `pc`: in checked mode the sandbox admits it first (the one
/// check every instruction form goes through), then one `switch` over its dense internal
/// opcode does what it says. Returns the outcome when the program ends or traps, nil to go on.
// `@_transparent` rather than `@inline(__always)`: the optimiser declines to inline a function
// this large otherwise, and the two copies of the switch are the point.
@_transparent
func step<C: ExecutionChecks>(_: C.Type, _ state: RunState, _ cursor: inout Cursor) -> Outcome? {
    let code = cursor.code
    let regs = state.registers
    // One 8-byte load per instruction; the fields are cut out of the word in registers.
    let word = UnsafeRawPointer(cursor.pc).load(as: UInt64.self)
    // `Interpreter.init` stored an `InterpreterOpcode` in the opcode byte of every slot it can reach.
    let opcode = unsafeBitCast(UInt8(truncatingIfNeeded: word), to: InterpreterOpcode.self)
    if C.enabled {
        if cursor.remaining == 0 { return .trap(code.distance(to: cursor.pc), .instructionBudgetExhausted(state.budget)) }
        cursor.remaining &-= 1
        if !state.sandbox.pointee.admit(at: cursor.pc, regs, &cursor.registers) {
            return .trap(code.distance(to: cursor.pc), state.sandbox.pointee.trap.pointee!)
        }
    }
    let dst = Int(truncatingIfNeeded: word >> 8) & 0x0f
    let src = Int(truncatingIfNeeded: word >> 12) & 0x0f
    let offset = Int16(truncatingIfNeeded: word >> 16)
    let imm = Int32(truncatingIfNeeded: word >> 32)
    cursor.pc += 1
    switch opcode {
    case .add64Imm:  // add64 imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        regs[dst] = a &+ b
    case .sub64Imm:  // sub64 imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        regs[dst] = a &- b
    case .mul64Imm:  // mul64 imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        regs[dst] = a &* b
    case .or64Imm:  // or64 imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        regs[dst] = a | b
    case .and64Imm:  // and64 imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        regs[dst] = a & b
    case .lsh64Imm:  // lsh64 imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        regs[dst] = a << (b & 63)
    case .rsh64Imm:  // rsh64 imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        regs[dst] = a >> (b & 63)
    case .xor64Imm:  // xor64 imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        regs[dst] = a ^ b
    case .arsh64Imm:  // arsh64 imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        regs[dst] = UInt64(bitPattern: Int64(bitPattern: a) >> (b & 63))
    case .div64Imm:  // div64 imm
        let b = UInt64(bitPattern: Int64(imm))
        regs[dst] = offset == 0 ? Arithmetic.div64(regs[dst], b) : Arithmetic.sdiv64(regs[dst], b)
    case .mod64Imm:  // mod64 imm
        let b = UInt64(bitPattern: Int64(imm))
        regs[dst] = offset == 0 ? Arithmetic.mod64(regs[dst], b) : Arithmetic.smod64(regs[dst], b)
    case .mov64Imm:  // mov64 imm
        regs[dst] = UInt64(bitPattern: Int64(imm))
    case .add64Reg:  // add64 reg
        let a = regs[dst]
        let b = regs[src]
        regs[dst] = a &+ b
    case .sub64Reg:  // sub64 reg
        let a = regs[dst]
        let b = regs[src]
        regs[dst] = a &- b
    case .mul64Reg:  // mul64 reg
        let a = regs[dst]
        let b = regs[src]
        regs[dst] = a &* b
    case .or64Reg:  // or64 reg
        let a = regs[dst]
        let b = regs[src]
        regs[dst] = a | b
    case .and64Reg:  // and64 reg
        let a = regs[dst]
        let b = regs[src]
        regs[dst] = a & b
    case .lsh64Reg:  // lsh64 reg
        let a = regs[dst]
        let b = regs[src]
        regs[dst] = a << (b & 63)
    case .rsh64Reg:  // rsh64 reg
        let a = regs[dst]
        let b = regs[src]
        regs[dst] = a >> (b & 63)
    case .xor64Reg:  // xor64 reg
        let a = regs[dst]
        let b = regs[src]
        regs[dst] = a ^ b
    case .arsh64Reg:  // arsh64 reg
        let a = regs[dst]
        let b = regs[src]
        regs[dst] = UInt64(bitPattern: Int64(bitPattern: a) >> (b & 63))
    case .div64Reg:  // div64 reg
        let b = regs[src]
        regs[dst] = offset == 0 ? Arithmetic.div64(regs[dst], b) : Arithmetic.sdiv64(regs[dst], b)
    case .mod64Reg:  // mod64 reg
        let b = regs[src]
        regs[dst] = offset == 0 ? Arithmetic.mod64(regs[dst], b) : Arithmetic.smod64(regs[dst], b)
    case .mov64Reg:  // mov64 reg
        regs[dst] = Arithmetic.moveSignExtend64(regs[src], bits: offset)
    case .neg64:  // neg64
        regs[dst] = 0 &- regs[dst]
    case .add32Imm:  // add32 imm
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        regs[dst] = UInt64(a32 &+ b32)
    case .sub32Imm:  // sub32 imm
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        regs[dst] = UInt64(a32 &- b32)
    case .mul32Imm:  // mul32 imm
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        regs[dst] = UInt64(a32 &* b32)
    case .or32Imm:  // or32 imm
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        regs[dst] = UInt64(a32 | b32)
    case .and32Imm:  // and32 imm
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        regs[dst] = UInt64(a32 & b32)
    case .lsh32Imm:  // lsh32 imm
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        regs[dst] = UInt64(a32 << (b32 & 31))
    case .rsh32Imm:  // rsh32 imm
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        regs[dst] = UInt64(a32 >> (b32 & 31))
    case .xor32Imm:  // xor32 imm
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        regs[dst] = UInt64(a32 ^ b32)
    case .arsh32Imm:  // arsh32 imm
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        regs[dst] = UInt64(UInt32(bitPattern: Int32(bitPattern: a32) >> (b32 & 31)))
    case .div32Imm:  // div32 imm
        let b = UInt32(bitPattern: imm)
        let a = UInt32(truncatingIfNeeded: regs[dst])
        regs[dst] = UInt64(offset == 0 ? Arithmetic.div32(a, b) : Arithmetic.sdiv32(a, b))
    case .mod32Imm:  // mod32 imm
        let b = UInt32(bitPattern: imm)
        let a = UInt32(truncatingIfNeeded: regs[dst])
        regs[dst] = UInt64(offset == 0 ? Arithmetic.mod32(a, b) : Arithmetic.smod32(a, b))
    case .mov32Imm:  // mov32 imm
        regs[dst] = UInt64(UInt32(bitPattern: imm))
    case .add32Reg:  // add32 reg
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        regs[dst] = UInt64(a32 &+ b32)
    case .sub32Reg:  // sub32 reg
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        regs[dst] = UInt64(a32 &- b32)
    case .mul32Reg:  // mul32 reg
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        regs[dst] = UInt64(a32 &* b32)
    case .or32Reg:  // or32 reg
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        regs[dst] = UInt64(a32 | b32)
    case .and32Reg:  // and32 reg
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        regs[dst] = UInt64(a32 & b32)
    case .lsh32Reg:  // lsh32 reg
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        regs[dst] = UInt64(a32 << (b32 & 31))
    case .rsh32Reg:  // rsh32 reg
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        regs[dst] = UInt64(a32 >> (b32 & 31))
    case .xor32Reg:  // xor32 reg
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        regs[dst] = UInt64(a32 ^ b32)
    case .arsh32Reg:  // arsh32 reg
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        regs[dst] = UInt64(UInt32(bitPattern: Int32(bitPattern: a32) >> (b32 & 31)))
    case .div32Reg:  // div32 reg
        let b = UInt32(truncatingIfNeeded: regs[src])
        let a = UInt32(truncatingIfNeeded: regs[dst])
        regs[dst] = UInt64(offset == 0 ? Arithmetic.div32(a, b) : Arithmetic.sdiv32(a, b))
    case .mod32Reg:  // mod32 reg
        let b = UInt32(truncatingIfNeeded: regs[src])
        let a = UInt32(truncatingIfNeeded: regs[dst])
        regs[dst] = UInt64(offset == 0 ? Arithmetic.mod32(a, b) : Arithmetic.smod32(a, b))
    case .mov32Reg:  // mov32 reg
        regs[dst] = Arithmetic.moveSignExtend32(regs[src], bits: offset)
    case .neg32:  // neg32
        regs[dst] = UInt64(0 &- UInt32(truncatingIfNeeded: regs[dst]))
    case .toLittleEndian:  // le
        regs[dst] = Arithmetic.toLittleEndian(regs[dst], bits: imm)
    case .toBigEndian:  // be
        regs[dst] = Arithmetic.toBigEndian(regs[dst], bits: imm)
    case .byteSwap:  // bswap
        regs[dst] = Arithmetic.byteSwap(regs[dst], bits: imm)
    case .load8:  // ldx 1
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        regs[dst] = UInt64(bpf_load8(address))
    case .loadSigned8:  // ldxs 1
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        regs[dst] = UInt64(bitPattern: Int64(Int8(bitPattern: bpf_load8(address))))
    case .load16:  // ldx 2
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        regs[dst] = UInt64(bpf_load16(address))
    case .loadSigned16:  // ldxs 2
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        regs[dst] = UInt64(bitPattern: Int64(Int16(bitPattern: bpf_load16(address))))
    case .load32:  // ldx 4
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        regs[dst] = UInt64(bpf_load32(address))
    case .loadSigned32:  // ldxs 4
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        regs[dst] = UInt64(bitPattern: Int64(Int32(bitPattern: bpf_load32(address))))
    case .load64:  // ldx 8
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        regs[dst] = bpf_load64(address)
    case .store8Imm:  // st 1
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        bpf_store8(address, UInt8(truncatingIfNeeded: Int64(imm)))
    case .store8:  // stx 1
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        bpf_store8(address, UInt8(truncatingIfNeeded: regs[src]))
    case .store16Imm:  // st 2
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        bpf_store16(address, UInt16(truncatingIfNeeded: Int64(imm)))
    case .store16:  // stx 2
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        bpf_store16(address, UInt16(truncatingIfNeeded: regs[src]))
    case .store32Imm:  // st 4
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        bpf_store32(address, UInt32(truncatingIfNeeded: Int64(imm)))
    case .store32:  // stx 4
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        bpf_store32(address, UInt32(truncatingIfNeeded: regs[src]))
    case .store64Imm:  // st 8
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        bpf_store64(address, UInt64(truncatingIfNeeded: Int64(imm)))
    case .store64:  // stx 8
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        bpf_store64(address, UInt64(truncatingIfNeeded: regs[src]))
    case .jeqImm:  // jeq imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a == b { cursor.pc += Int(offset) }
    case .jgtImm:  // jgt imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a > b { cursor.pc += Int(offset) }
    case .jgeImm:  // jge imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a >= b { cursor.pc += Int(offset) }
    case .jsetImm:  // jset imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a & b != 0 { cursor.pc += Int(offset) }
    case .jneImm:  // jne imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a != b { cursor.pc += Int(offset) }
    case .jsgtImm:  // jsgt imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if Int64(bitPattern: a) > Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsgeImm:  // jsge imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if Int64(bitPattern: a) >= Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jltImm:  // jlt imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a < b { cursor.pc += Int(offset) }
    case .jleImm:  // jle imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a <= b { cursor.pc += Int(offset) }
    case .jsltImm:  // jslt imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if Int64(bitPattern: a) < Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsleImm:  // jsle imm
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if Int64(bitPattern: a) <= Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jeqReg:  // jeq reg
        let a = regs[dst]
        let b = regs[src]
        if a == b { cursor.pc += Int(offset) }
    case .jgtReg:  // jgt reg
        let a = regs[dst]
        let b = regs[src]
        if a > b { cursor.pc += Int(offset) }
    case .jgeReg:  // jge reg
        let a = regs[dst]
        let b = regs[src]
        if a >= b { cursor.pc += Int(offset) }
    case .jsetReg:  // jset reg
        let a = regs[dst]
        let b = regs[src]
        if a & b != 0 { cursor.pc += Int(offset) }
    case .jneReg:  // jne reg
        let a = regs[dst]
        let b = regs[src]
        if a != b { cursor.pc += Int(offset) }
    case .jsgtReg:  // jsgt reg
        let a = regs[dst]
        let b = regs[src]
        if Int64(bitPattern: a) > Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsgeReg:  // jsge reg
        let a = regs[dst]
        let b = regs[src]
        if Int64(bitPattern: a) >= Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jltReg:  // jlt reg
        let a = regs[dst]
        let b = regs[src]
        if a < b { cursor.pc += Int(offset) }
    case .jleReg:  // jle reg
        let a = regs[dst]
        let b = regs[src]
        if a <= b { cursor.pc += Int(offset) }
    case .jsltReg:  // jslt reg
        let a = regs[dst]
        let b = regs[src]
        if Int64(bitPattern: a) < Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsleReg:  // jsle reg
        let a = regs[dst]
        let b = regs[src]
        if Int64(bitPattern: a) <= Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jeq32Imm:  // jeq32 imm
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a == b { cursor.pc += Int(offset) }
    case .jgt32Imm:  // jgt32 imm
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a > b { cursor.pc += Int(offset) }
    case .jge32Imm:  // jge32 imm
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a >= b { cursor.pc += Int(offset) }
    case .jset32Imm:  // jset32 imm
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a & b != 0 { cursor.pc += Int(offset) }
    case .jne32Imm:  // jne32 imm
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a != b { cursor.pc += Int(offset) }
    case .jsgt32Imm:  // jsgt32 imm
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if Int32(bitPattern: a) > Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsge32Imm:  // jsge32 imm
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if Int32(bitPattern: a) >= Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jlt32Imm:  // jlt32 imm
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a < b { cursor.pc += Int(offset) }
    case .jle32Imm:  // jle32 imm
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a <= b { cursor.pc += Int(offset) }
    case .jslt32Imm:  // jslt32 imm
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if Int32(bitPattern: a) < Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsle32Imm:  // jsle32 imm
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if Int32(bitPattern: a) <= Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jeq32Reg:  // jeq32 reg
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a == b { cursor.pc += Int(offset) }
    case .jgt32Reg:  // jgt32 reg
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a > b { cursor.pc += Int(offset) }
    case .jge32Reg:  // jge32 reg
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a >= b { cursor.pc += Int(offset) }
    case .jset32Reg:  // jset32 reg
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a & b != 0 { cursor.pc += Int(offset) }
    case .jne32Reg:  // jne32 reg
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a != b { cursor.pc += Int(offset) }
    case .jsgt32Reg:  // jsgt32 reg
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if Int32(bitPattern: a) > Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsge32Reg:  // jsge32 reg
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if Int32(bitPattern: a) >= Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jlt32Reg:  // jlt32 reg
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a < b { cursor.pc += Int(offset) }
    case .jle32Reg:  // jle32 reg
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a <= b { cursor.pc += Int(offset) }
    case .jslt32Reg:  // jslt32 reg
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if Int32(bitPattern: a) < Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsle32Reg:  // jsle32 reg
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if Int32(bitPattern: a) <= Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .lddw:  // lddw
        regs[dst] = UInt64(UInt32(bitPattern: imm)) | UInt64(UInt32(bitPattern: cursor.pc.pointee.imm)) << 32
        cursor.pc += 1
    case .atomic32, .atomic64:  // atomics, 32 and 64 bit
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        let old = AtomicMemory.perform(imm, is64: opcode == .atomic64, address: pointer(address), operand: regs[src],
                                       comparand: regs[0])
        if imm == Opcode.atomicCmpxchg {
            regs[0] = old
        } else if imm & Opcode.atomicFetch != 0 {
            regs[src] = old
        }
    case .ja:  // ja
        cursor.pc += Int(offset)
    case .gotol:  // gotol
        cursor.pc += Int(imm)
    case .call:  // call
        if src == 1 {  // bpf-to-bpf
            if let outcome = pushFrame(callback: nil, state, &cursor) { return outcome }
            if C.enabled { cursor.registers = state.sandbox.pointee.called(cursor.registers) }
            cursor.pc += Int(imm)
        } else if let outcome = callHelper(UInt64(UInt32(bitPattern: imm)), state, &cursor, C.self) {
            return outcome
        }
    case .callx:  // callx: helper id in dst
        if let outcome = callHelper(regs[dst], state, &cursor, C.self) { return outcome }
    case .exit:  // exit
        if cursor.depth == 0 { return .returned(regs[0], remainingBudget: cursor.remaining) }
        cursor.depth &-= 1
        let frame = state.frames[cursor.depth]
        regs[6] = frame.r6
        regs[7] = frame.r7
        regs[8] = frame.r8
        regs[9] = frame.r9
        regs[10] &+= UInt64(Interpreter.stackFrameSize)
        if C.enabled { cursor.registers = state.sandbox.pointee.returned(cursor.registers) }
        if let callback = frame.callback {  // a turn of bpf_loop ended
            let turn = frame.turn &+ 1
            if regs[0] == 0 && turn < frame.turns {
                // The same frame record again, one turn on (popped just now, so it fits).
                state.frames[cursor.depth].turn = turn
                cursor.depth &+= 1
                regs[10] &-= UInt64(Interpreter.stackFrameSize)
                enterCallback(callback, turn: turn, state, &cursor, C.self, first: false)
                return nil
            }
            regs[0] = turn
            if C.enabled {
                let sandbox = state.sandbox
                guard let registers = sandbox.pointee.helperReturned(state.loopHelperID, regs, cursor.registers) else {
                    return .trap(code.distance(to: frame.returnPC) &- 1, sandbox.pointee.trap.pointee!)
                }
                cursor.registers = registers
            }
        }
        cursor.pc = frame.returnPC
    }
    return nil
}

/// Calls helper `id` with r1-r5 (already admitted against its prototype in checked mode): r0
/// receives its result and r1-r5 become undefined. `bpf_tail_call` and `bpf_loop` are performed
/// here, inside the run. Returns the outcome when the call ends or traps the run.
@inline(__always)
func callHelper<C: ExecutionChecks>(_ id: UInt64, _ state: RunState, _ cursor: inout Cursor, _: C.Type) -> Outcome? {
    let regs = state.registers
    let index = cursor.code.distance(to: cursor.pc) &- 1
    if id == state.tailCallHelperID {  // bpf_tail_call(ctx, prog_array, index)
        if cursor.depth == 0, cursor.tailCalls < maximumTailCalls, let target = state.tailCall?(regs[2], regs[3], !C.enabled) {
            // The frame is reused; the new program starts with only r1 (the context) and r10.
            if C.enabled {
                let sandbox = state.sandbox
                guard let registers = sandbox.pointee.tailCalled(to: target, cursor.registers) else {
                    return .trap(index, sandbox.pointee.trap.pointee!)
                }
                cursor.registers = registers
            }
            state.tailCallTargets[cursor.tailCalls] = Unmanaged.passRetained(target)
            cursor.tailCalls &+= 1
            cursor.code = target.start
            cursor.pc = target.start
            return nil
        }
        // A tail call that cannot be made falls through, as in the kernel.
        regs[0] = UInt64(bitPattern: -2)  // -ENOENT
    } else if id == state.loopHelperID {  // bpf_loop(turns, callback, ctx, flags)
        let turns = regs[1]
        if regs[4] != 0 {
            regs[0] = UInt64(bitPattern: -22)  // -EINVAL
        } else if turns > maximumLoopTurns {
            regs[0] = UInt64(bitPattern: -7)  // -E2BIG
        } else if turns == 0 {
            regs[0] = 0
        } else {
            let callback = UnsafePointer<Instruction>(bitPattern: UInt(truncatingIfNeeded: regs[2])).unsafelyUnwrapped
            if let outcome = pushFrame(callback: callback, turns: turns, state, &cursor) { return outcome }
            enterCallback(callback, turn: 0, state, &cursor, C.self, first: true)
            return nil
        }
    } else {
        let helpers = state.helpers
        guard id < UInt64(helpers.count), let function = helpers[Int(id)] else {
            return .trap(index, missingHelper(id, at: index, state, cursor))
        }
        regs[0] = function(regs[1], regs[2], regs[3], regs[4], regs[5], state.context)
        if regs[0] == 0 && id == state.unwindHelperID { return .returned(0, remainingBudget: cursor.remaining) }
    }
    if C.enabled {
        let sandbox = state.sandbox
        guard let registers = sandbox.pointee.helperReturned(id, regs, cursor.registers) else {
            return .trap(index, sandbox.pointee.trap.pointee!)
        }
        cursor.registers = registers
    }
    return nil
}

/// Why a call of helper `id` at `index` cannot be made: a poisoned instruction of the code
/// running now (the entry program's, or the last tail call's) names what it was poisoned for.
@inline(never)
func missingHelper(_ id: UInt64, at index: Int, _ state: RunState, _ cursor: Cursor) -> ExecutionError.Reason {
    let code = cursor.tailCalls == 0 ? state.entry : state.tailCallTargets[cursor.tailCalls - 1]!
    if let reason = code.takeUnretainedValue().poisoned[index] { return .poisonedInstruction(reason) }
    return .unknownHelper(id)
}

/// Enters a new frame from the call instruction just executed: saves the return address and
/// r6-r9 (and, for a `bpf_loop` callback, the loop's state) and moves r10 down one frame; the
/// outcome is a trap when the frame limit is reached.
@inline(__always)
func pushFrame(callback: UnsafePointer<Instruction>?, turns: UInt64 = 0, _ state: RunState, _ cursor: inout Cursor)
    -> Outcome?
{
    if cursor.depth == Interpreter.maximumCallDepth - 1 {
        return .trap(cursor.code.distance(to: cursor.pc) &- 1, .callDepthExceeded(limit: Interpreter.maximumCallDepth))
    }
    let regs = state.registers
    state.frames[cursor.depth] = CallFrame(returnPC: cursor.pc, r6: regs[6], r7: regs[7], r8: regs[8], r9: regs[9],
                                           callback: callback, turn: 0, turns: turns, callbackContext: regs[3])
    cursor.depth &+= 1
    regs[10] &-= UInt64(Interpreter.stackFrameSize)
    return nil
}

/// Starts turn `turn` of the `bpf_loop` whose frame (just entered) is at `cursor.depth`:
/// r1 = the turn, r2 = the loop's context.
@inline(__always)
func enterCallback<C: ExecutionChecks>(_ callback: UnsafePointer<Instruction>, turn: UInt64, _ state: RunState,
                                       _ cursor: inout Cursor, _: C.Type, first: Bool)
{
    let regs = state.registers
    let context = state.frames[cursor.depth - 1].callbackContext
    regs[1] = turn
    regs[2] = context
    if C.enabled {
        cursor.registers = state.sandbox.pointee.calledBack(first: first, cursor.registers)
    }
    cursor.pc = callback
}
