/// Whether the interpreter loop checks memory accesses, register initialisation and the
/// instruction budget. The loop is generic over it, so each mode compiles to its own code and
/// trusted mode carries no checks at all.
protocol ExecutionChecks {
    static var enabled: Bool { get }
}

/// Every access checked: the oracle mode for unverified programs.
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

/// The state a bpf-to-bpf call saves: where to return, the callee-saved registers r6-r9, and (in
/// checked mode) which registers held values.
struct CallFrame {
    var returnPC: UnsafePointer<Instruction>
    var r6: UInt64, r7: UInt64, r8: UInt64, r9: UInt64
    var initialized: UInt16
}

/// The memory a checked run may touch: the active part of the BPF stack plus the caller's regions.
struct AccessBounds {
    /// The lowest address of the deepest active stack frame.
    var stackLow: UInt
    /// One past the top of frame 0.
    let stackHigh: UInt
    let regions: UnsafeBufferPointer<MemoryRegion>

    @inline(__always)
    func check(_ address: UInt64, size: Int, isWrite: Bool) -> ExecutionError.Reason? {
        let start = UInt(truncatingIfNeeded: address)
        if start >= stackLow && start < stackHigh && stackHigh - start >= UInt(size) { return nil }
        for region in regions where region.contains(start, size: size) {
            if isWrite && !region.isWritable { return .writeToReadOnlyMemory(address: address, size: size) }
            return nil
        }
        return .outOfBounds(address: address, size: size, isWrite: isWrite)
    }
}

@inline(__always)
func checkRead(_ register: Int, _ initialized: UInt16) -> ExecutionError.Reason? {
    initialized & (1 << register) != 0 ? nil : .uninitializedRegister(Register(rawValue: UInt8(register))!)
}

@inline(__always)
func checkRead(_ first: Int, _ second: Int, _ initialized: UInt16) -> ExecutionError.Reason? {
    checkRead(first, initialized) ?? checkRead(second, initialized)
}

@inline(__always)
func checkWrite(_ register: Int, _ initialized: inout UInt16) -> ExecutionError.Reason? {
    if register == 10 { return .writeToFramePointer }
    initialized |= 1 << register
    return nil
}

@inline(__always)
func pointer(_ address: UInt64) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: address)).unsafelyUnwrapped
}

/// Resolves a tail call: given the program-array map pointer (r2) and the index (r3), the code
/// of the program to continue with, or nil when the slot is empty or out of range.
typealias TailCallResolver = (_ map: UInt64, _ index: UInt64) -> UnsafePointer<Instruction>?

/// Everything one run of the loop needs that does not change during it.
struct RunState {
    /// The first slot of the code the run starts in (for traps: indices count from here).
    var code: UnsafePointer<Instruction>
    /// Where execution starts: the entry point, or a callback inside `code`.
    var entry: UnsafePointer<Instruction>
    var helpers: UnsafeBufferPointer<HelperFunction?>
    /// The id of the unwind helper, or `UInt64.max` for none.
    var unwindHelperID: UInt64
    var registers: UnsafeMutablePointer<UInt64>
    var frames: UnsafeMutablePointer<CallFrame>
    var bounds: AccessBounds
    var initialized: UInt16
    var budget: Int
    var context: UnsafeMutableRawPointer?
    var tailCall: TailCallResolver?
    /// Checked mode: the prototype check made before each helper call.
    var argumentCheck: HelperArgumentCheck?
}

/// The state of a run that changes as it goes, kept in registers by the optimiser.
struct Cursor {
    var pc: UnsafePointer<Instruction>
    /// The code of the program now running (changes on a tail call).
    var code: UnsafePointer<Instruction>
    var depth = 0
    var initialized: UInt16
    var remaining: Int
    var bounds: AccessBounds
    var tailCalls = 0
}

/// The kernel's limit on chained tail calls (MAX_TAIL_CALL_CNT).
let maximumTailCalls = 33

/// The interpreter loop: registers in an unsafe buffer, all other state in locals. Each turn runs
/// `step` twice, so the switch, and with it the indirect jump that dispatches an instruction,
/// exists in two copies; the branch predictor then sees two dispatch sites instead of one, which
/// measurably cuts mispredictions (see `bpfrun bench`). The program was validated when it became
/// a `Program`, so every opcode seen here is valid and every jump lands inside the code.
@inline(never)
func execute<C: ExecutionChecks>(_: C.Type, _ state: RunState) -> Outcome {
    var cursor = Cursor(pc: state.entry, code: state.code, initialized: state.initialized, remaining: state.budget,
                        bounds: state.bounds)
    while true {
        if let outcome = step(C.self, state, &cursor) { return outcome }
        if let outcome = step(C.self, state, &cursor) { return outcome }
    }
}

/// Executes the instruction at `pc`: one `switch` over its dense internal opcode. Returns the
/// outcome when the program ends or traps, nil to go on.
// `@_transparent` rather than `@inline(__always)`: the optimiser declines to inline a function
// this large otherwise, and the two copies of the switch are the point.
@_transparent
func step<C: ExecutionChecks>(_: C.Type, _ state: RunState, _ cursor: inout Cursor) -> Outcome? {
    let code = cursor.code
    let regs = state.registers
    let frames = state.frames
    let helpers = state.helpers
    let frameSize = UInt64(Interpreter.stackFrameSize)
    // One 8-byte load per instruction; the fields are cut out of the word in registers.
    let word = UnsafeRawPointer(cursor.pc).load(as: UInt64.self)
    if C.enabled {
        if cursor.remaining == 0 { return .trap(code.distance(to: cursor.pc), .instructionBudgetExhausted(state.budget)) }
        cursor.remaining &-= 1
    }
    // `Interpreter.init` stored an `InterpreterOpcode` in the opcode byte of every slot it can reach.
    let opcode = unsafeBitCast(UInt8(truncatingIfNeeded: word), to: InterpreterOpcode.self)
    let dst = Int(truncatingIfNeeded: word >> 8) & 0x0f
    let src = Int(truncatingIfNeeded: word >> 12) & 0x0f
    let offset = Int16(truncatingIfNeeded: word >> 16)
    let imm = Int32(truncatingIfNeeded: word >> 32)
    cursor.pc += 1
    switch opcode {
    case .add64Imm:  // add64 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a &+ b
    case .sub64Imm:  // sub64 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a &- b
    case .mul64Imm:  // mul64 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a &* b
    case .or64Imm:  // or64 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a | b
    case .and64Imm:  // and64 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a & b
    case .lsh64Imm:  // lsh64 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a << (b & 63)
    case .rsh64Imm:  // rsh64 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a >> (b & 63)
    case .xor64Imm:  // xor64 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a ^ b
    case .arsh64Imm:  // arsh64 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(bitPattern: Int64(bitPattern: a) >> (b & 63))
    case .div64Imm:  // div64 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let b = UInt64(bitPattern: Int64(imm))
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = offset == 0 ? Arithmetic.div64(regs[dst], b) : Arithmetic.sdiv64(regs[dst], b)
    case .mod64Imm:  // mod64 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let b = UInt64(bitPattern: Int64(imm))
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = offset == 0 ? Arithmetic.mod64(regs[dst], b) : Arithmetic.smod64(regs[dst], b)
    case .mov64Imm:  // mov64 imm
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(bitPattern: Int64(imm))
    case .add64Reg:  // add64 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a &+ b
    case .sub64Reg:  // sub64 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a &- b
    case .mul64Reg:  // mul64 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a &* b
    case .or64Reg:  // or64 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a | b
    case .and64Reg:  // and64 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a & b
    case .lsh64Reg:  // lsh64 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a << (b & 63)
    case .rsh64Reg:  // rsh64 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a >> (b & 63)
    case .xor64Reg:  // xor64 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = a ^ b
    case .arsh64Reg:  // arsh64 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(bitPattern: Int64(bitPattern: a) >> (b & 63))
    case .div64Reg:  // div64 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let b = regs[src]
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = offset == 0 ? Arithmetic.div64(regs[dst], b) : Arithmetic.sdiv64(regs[dst], b)
    case .mod64Reg:  // mod64 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let b = regs[src]
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = offset == 0 ? Arithmetic.mod64(regs[dst], b) : Arithmetic.smod64(regs[dst], b)
    case .mov64Reg:  // mov64 reg
        if C.enabled, let trap = checkRead(src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = Arithmetic.moveSignExtend64(regs[src], bits: offset)
    case .neg64:  // neg64
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = 0 &- regs[dst]
    case .add32Imm:  // add32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 &+ b32)
    case .sub32Imm:  // sub32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 &- b32)
    case .mul32Imm:  // mul32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 &* b32)
    case .or32Imm:  // or32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 | b32)
    case .and32Imm:  // and32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 & b32)
    case .lsh32Imm:  // lsh32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 << (b32 & 31))
    case .rsh32Imm:  // rsh32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 >> (b32 & 31))
    case .xor32Imm:  // xor32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 ^ b32)
    case .arsh32Imm:  // arsh32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(bitPattern: imm)
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(UInt32(bitPattern: Int32(bitPattern: a32) >> (b32 & 31)))
    case .div32Imm:  // div32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let b = UInt32(bitPattern: imm)
        let a = UInt32(truncatingIfNeeded: regs[dst])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(offset == 0 ? Arithmetic.div32(a, b) : Arithmetic.sdiv32(a, b))
    case .mod32Imm:  // mod32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let b = UInt32(bitPattern: imm)
        let a = UInt32(truncatingIfNeeded: regs[dst])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(offset == 0 ? Arithmetic.mod32(a, b) : Arithmetic.smod32(a, b))
    case .mov32Imm:  // mov32 imm
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(UInt32(bitPattern: imm))
    case .add32Reg:  // add32 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 &+ b32)
    case .sub32Reg:  // sub32 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 &- b32)
    case .mul32Reg:  // mul32 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 &* b32)
    case .or32Reg:  // or32 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 | b32)
    case .and32Reg:  // and32 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 & b32)
    case .lsh32Reg:  // lsh32 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 << (b32 & 31))
    case .rsh32Reg:  // rsh32 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 >> (b32 & 31))
    case .xor32Reg:  // xor32 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(a32 ^ b32)
    case .arsh32Reg:  // arsh32 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a32 = UInt32(truncatingIfNeeded: regs[dst])
        let b32 = UInt32(truncatingIfNeeded: regs[src])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(UInt32(bitPattern: Int32(bitPattern: a32) >> (b32 & 31)))
    case .div32Reg:  // div32 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let b = UInt32(truncatingIfNeeded: regs[src])
        let a = UInt32(truncatingIfNeeded: regs[dst])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(offset == 0 ? Arithmetic.div32(a, b) : Arithmetic.sdiv32(a, b))
    case .mod32Reg:  // mod32 reg
        if C.enabled, let trap = checkRead(src, dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let b = UInt32(truncatingIfNeeded: regs[src])
        let a = UInt32(truncatingIfNeeded: regs[dst])
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(offset == 0 ? Arithmetic.mod32(a, b) : Arithmetic.smod32(a, b))
    case .mov32Reg:  // mov32 reg
        if C.enabled, let trap = checkRead(src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = Arithmetic.moveSignExtend32(regs[src], bits: offset)
    case .neg32:  // neg32
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(0 &- UInt32(truncatingIfNeeded: regs[dst]))
    case .toLittleEndian:  // le
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = Arithmetic.toLittleEndian(regs[dst], bits: imm)
    case .toBigEndian:  // be
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = Arithmetic.toBigEndian(regs[dst], bits: imm)
    case .byteSwap:  // bswap
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = Arithmetic.byteSwap(regs[dst], bits: imm)
    case .load8:  // ldx 1
        if C.enabled, let trap = checkRead(src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 1, isWrite: false) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(pointer(address).loadUnaligned(as: UInt8.self))
    case .loadSigned8:  // ldxs 1
        if C.enabled, let trap = checkRead(src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 1, isWrite: false) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(bitPattern: Int64(pointer(address).loadUnaligned(as: Int8.self)))
    case .load16:  // ldx 2
        if C.enabled, let trap = checkRead(src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 2, isWrite: false) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(pointer(address).loadUnaligned(as: UInt16.self))
    case .loadSigned16:  // ldxs 2
        if C.enabled, let trap = checkRead(src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 2, isWrite: false) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(bitPattern: Int64(pointer(address).loadUnaligned(as: Int16.self)))
    case .load32:  // ldx 4
        if C.enabled, let trap = checkRead(src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 4, isWrite: false) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(pointer(address).loadUnaligned(as: UInt32.self))
    case .loadSigned32:  // ldxs 4
        if C.enabled, let trap = checkRead(src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 4, isWrite: false) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(bitPattern: Int64(pointer(address).loadUnaligned(as: Int32.self)))
    case .load64:  // ldx 8
        if C.enabled, let trap = checkRead(src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[src] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 8, isWrite: false) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(pointer(address).loadUnaligned(as: UInt64.self))
    case .store8Imm:  // st 1
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 1, isWrite: true) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        pointer(address).storeBytes(of: UInt8(truncatingIfNeeded: Int64(imm)), as: UInt8.self)
    case .store8:  // stx 1
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 1, isWrite: true) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        pointer(address).storeBytes(of: UInt8(truncatingIfNeeded: regs[src]), as: UInt8.self)
    case .store16Imm:  // st 2
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 2, isWrite: true) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        pointer(address).storeBytes(of: UInt16(truncatingIfNeeded: Int64(imm)), as: UInt16.self)
    case .store16:  // stx 2
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 2, isWrite: true) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        pointer(address).storeBytes(of: UInt16(truncatingIfNeeded: regs[src]), as: UInt16.self)
    case .store32Imm:  // st 4
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 4, isWrite: true) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        pointer(address).storeBytes(of: UInt32(truncatingIfNeeded: Int64(imm)), as: UInt32.self)
    case .store32:  // stx 4
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 4, isWrite: true) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        pointer(address).storeBytes(of: UInt32(truncatingIfNeeded: regs[src]), as: UInt32.self)
    case .store64Imm:  // st 8
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 8, isWrite: true) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        pointer(address).storeBytes(of: UInt64(truncatingIfNeeded: Int64(imm)), as: UInt64.self)
    case .store64:  // stx 8
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled, let trap = cursor.bounds.check(address, size: 8, isWrite: true) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        pointer(address).storeBytes(of: UInt64(truncatingIfNeeded: regs[src]), as: UInt64.self)
    case .jeqImm:  // jeq imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a == b { cursor.pc += Int(offset) }
    case .jgtImm:  // jgt imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a > b { cursor.pc += Int(offset) }
    case .jgeImm:  // jge imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a >= b { cursor.pc += Int(offset) }
    case .jsetImm:  // jset imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a & b != 0 { cursor.pc += Int(offset) }
    case .jneImm:  // jne imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a != b { cursor.pc += Int(offset) }
    case .jsgtImm:  // jsgt imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if Int64(bitPattern: a) > Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsgeImm:  // jsge imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if Int64(bitPattern: a) >= Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jltImm:  // jlt imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a < b { cursor.pc += Int(offset) }
    case .jleImm:  // jle imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if a <= b { cursor.pc += Int(offset) }
    case .jsltImm:  // jslt imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if Int64(bitPattern: a) < Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsleImm:  // jsle imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = UInt64(bitPattern: Int64(imm))
        if Int64(bitPattern: a) <= Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jeqReg:  // jeq reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if a == b { cursor.pc += Int(offset) }
    case .jgtReg:  // jgt reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if a > b { cursor.pc += Int(offset) }
    case .jgeReg:  // jge reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if a >= b { cursor.pc += Int(offset) }
    case .jsetReg:  // jset reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if a & b != 0 { cursor.pc += Int(offset) }
    case .jneReg:  // jne reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if a != b { cursor.pc += Int(offset) }
    case .jsgtReg:  // jsgt reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if Int64(bitPattern: a) > Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsgeReg:  // jsge reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if Int64(bitPattern: a) >= Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jltReg:  // jlt reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if a < b { cursor.pc += Int(offset) }
    case .jleReg:  // jle reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if a <= b { cursor.pc += Int(offset) }
    case .jsltReg:  // jslt reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if Int64(bitPattern: a) < Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsleReg:  // jsle reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = regs[dst]
        let b = regs[src]
        if Int64(bitPattern: a) <= Int64(bitPattern: b) { cursor.pc += Int(offset) }
    case .jeq32Imm:  // jeq32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a == b { cursor.pc += Int(offset) }
    case .jgt32Imm:  // jgt32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a > b { cursor.pc += Int(offset) }
    case .jge32Imm:  // jge32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a >= b { cursor.pc += Int(offset) }
    case .jset32Imm:  // jset32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a & b != 0 { cursor.pc += Int(offset) }
    case .jne32Imm:  // jne32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a != b { cursor.pc += Int(offset) }
    case .jsgt32Imm:  // jsgt32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if Int32(bitPattern: a) > Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsge32Imm:  // jsge32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if Int32(bitPattern: a) >= Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jlt32Imm:  // jlt32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a < b { cursor.pc += Int(offset) }
    case .jle32Imm:  // jle32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if a <= b { cursor.pc += Int(offset) }
    case .jslt32Imm:  // jslt32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if Int32(bitPattern: a) < Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsle32Imm:  // jsle32 imm
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(bitPattern: imm)
        if Int32(bitPattern: a) <= Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jeq32Reg:  // jeq32 reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a == b { cursor.pc += Int(offset) }
    case .jgt32Reg:  // jgt32 reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a > b { cursor.pc += Int(offset) }
    case .jge32Reg:  // jge32 reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a >= b { cursor.pc += Int(offset) }
    case .jset32Reg:  // jset32 reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a & b != 0 { cursor.pc += Int(offset) }
    case .jne32Reg:  // jne32 reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a != b { cursor.pc += Int(offset) }
    case .jsgt32Reg:  // jsgt32 reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if Int32(bitPattern: a) > Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsge32Reg:  // jsge32 reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if Int32(bitPattern: a) >= Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jlt32Reg:  // jlt32 reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a < b { cursor.pc += Int(offset) }
    case .jle32Reg:  // jle32 reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if a <= b { cursor.pc += Int(offset) }
    case .jslt32Reg:  // jslt32 reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if Int32(bitPattern: a) < Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .jsle32Reg:  // jsle32 reg
        if C.enabled, let trap = checkRead(dst, src, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let a = UInt32(truncatingIfNeeded: regs[dst])
        let b = UInt32(truncatingIfNeeded: regs[src])
        if Int32(bitPattern: a) <= Int32(bitPattern: b) { cursor.pc += Int(offset) }
    case .lddw:  // lddw
        if C.enabled, let trap = checkWrite(dst, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        regs[dst] = UInt64(UInt32(bitPattern: imm)) | UInt64(UInt32(bitPattern: cursor.pc.pointee.imm)) << 32
        cursor.pc += 1
    case .atomic32, .atomic64:  // atomics, 32 and 64 bit
        let isCmpxchg = imm == Opcode.atomicCmpxchg
        if C.enabled {
            if let trap = checkRead(dst, src, cursor.initialized) ?? (isCmpxchg ? checkRead(0, cursor.initialized) : nil) {
                return .trap(code.distance(to: cursor.pc) &- 1, trap)
            }
        }
        let size = opcode == .atomic64 ? 8 : 4
        let address = regs[dst] &+ UInt64(bitPattern: Int64(offset))
        if C.enabled {
            if let trap = cursor.bounds.check(address, size: size, isWrite: true) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
            if address % UInt64(size) != 0 { return .trap(code.distance(to: cursor.pc) &- 1, .misalignedAtomic(address: address, size: size)) }
        }
        let old = AtomicMemory.perform(imm, is64: size == 8, address: pointer(address), operand: regs[src],
                                       comparand: regs[0])
        if isCmpxchg {
            regs[0] = old
            if C.enabled { cursor.initialized |= 1 }
        } else if imm & Opcode.atomicFetch != 0 {
            if C.enabled, let trap = checkWrite(src, &cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
            regs[src] = old
        }
    case .ja:  // ja
        cursor.pc += Int(offset)
    case .gotol:  // gotol
        cursor.pc += Int(imm)
    case .call:  // call
        if src == 1 {  // bpf-to-bpf
            if cursor.depth == Interpreter.maximumCallDepth - 1 {
                return .trap(code.distance(to: cursor.pc) &- 1, .callDepthExceeded(limit: Interpreter.maximumCallDepth))
            }
            frames[cursor.depth] = CallFrame(returnPC: cursor.pc, r6: regs[6], r7: regs[7], r8: regs[8], r9: regs[9],
                                      initialized: cursor.initialized)
            cursor.depth &+= 1
            regs[10] &-= frameSize
            if C.enabled {
                cursor.bounds.stackLow &-= UInt(frameSize)
                cursor.initialized &= 0b100_0011_1110  // r1-r5 and r10 carry over
            }
            cursor.pc += Int(imm)
        } else {
            let id = UInt64(UInt32(bitPattern: imm))
            if id == 12, let resolver = state.tailCall {  // bpf_tail_call(ctx, prog_array, index)
                if C.enabled, let trap = checkRead(1, 2, cursor.initialized) ?? checkRead(3, cursor.initialized) {
                    return .trap(code.distance(to: cursor.pc) &- 1, trap)
                }
                if cursor.depth == 0, cursor.tailCalls < maximumTailCalls, let target = resolver(regs[2], regs[3]) {
                    // The frame is reused; the new program starts with only r1 (the context) and r10.
                    cursor.tailCalls &+= 1
                    cursor.code = target
                    cursor.pc = target
                    cursor.initialized = 0b100_0000_0010
                    return nil
                }
                // A tail call that cannot be made falls through, as in the kernel.
                regs[0] = UInt64(bitPattern: -2)  // -ENOENT
                if C.enabled { cursor.initialized = (cursor.initialized & ~0b11_1110) | 1 }
                return nil
            }
            if let trap = callHelper(id, regs, state, &cursor, C.self) {
                return .trap(code.distance(to: cursor.pc) &- 1, trap)
            }
            if regs[0] == 0 && id == state.unwindHelperID { return .returned(0, remainingBudget: cursor.remaining) }
        }
    case .callx:  // callx: helper id in dst
        if C.enabled, let trap = checkRead(dst, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        let id = regs[dst]
        if let trap = callHelper(id, regs, state, &cursor, C.self) {
            return .trap(code.distance(to: cursor.pc) &- 1, trap)
        }
        if regs[0] == 0 && id == state.unwindHelperID { return .returned(0, remainingBudget: cursor.remaining) }
    case .exit:  // exit
        if C.enabled, let trap = checkRead(0, cursor.initialized) { return .trap(code.distance(to: cursor.pc) &- 1, trap) }
        if cursor.depth == 0 { return .returned(regs[0], remainingBudget: cursor.remaining) }
        cursor.depth &-= 1
        let frame = frames[cursor.depth]
        cursor.pc = frame.returnPC
        regs[6] = frame.r6
        regs[7] = frame.r7
        regs[8] = frame.r8
        regs[9] = frame.r9
        regs[10] &+= frameSize
        if C.enabled {
            cursor.bounds.stackLow &+= UInt(frameSize)
            cursor.initialized = (frame.initialized & 0b111_1100_0000) | 1  // r6-r10 restored, r0 the result
        }
            }
    return nil
}

/// Calls helper `id` with r1-r5 (in checked mode after checking them against its prototype);
/// r0 receives its result and r1-r5 become undefined.
@inline(__always)
func callHelper<C: ExecutionChecks>(_ id: UInt64, _ regs: UnsafeMutablePointer<UInt64>, _ state: RunState,
                                    _ cursor: inout Cursor, _: C.Type) -> ExecutionError.Reason?
{
    let helpers = state.helpers
    guard id < UInt64(helpers.count), let function = helpers[Int(id)] else { return .unknownHelper(id) }
    if C.enabled, let check = state.argumentCheck,
       let reason = check.check(id, regs, cursor.initialized, cursor.bounds)
    {
        return reason
    }
    regs[0] = function(regs[1], regs[2], regs[3], regs[4], regs[5], state.context)
    if C.enabled { cursor.initialized = (cursor.initialized & ~0b11_1110) | 1 }
    return nil
}
