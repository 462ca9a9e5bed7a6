import BPFVM

/// One instruction of a path as precision backtracking needs it: where it ran (its frame's
/// depth), the stack slot it loaded or stored at a constant address, and whether it returned
/// from a callback.
struct PathStep: Sendable {
    let pc: Int32
    let depth: UInt8
    /// For a load, store or atomic on the stack at a constant address: the frame's depth and
    /// slot (0xff when none), and the first byte within the slot.
    let stackFrame: UInt8
    let stackSlot: UInt8
    let stackByte: UInt8
    /// An `exit` that returned from a callback (its r0 went to the helper, not to the caller).
    let leavesCallback: Bool

    static let noFrame: UInt8 = 0xff

    init(pc: Int, depth: Int, stack: StackAddress?, leavesCallback: Bool) {
        self.pc = Int32(pc)
        self.depth = UInt8(depth)
        stackFrame = stack.map { UInt8($0.frame) } ?? Self.noFrame
        stackSlot = stack.map { UInt8($0.slot) } ?? 0
        stackByte = stack.map { UInt8($0.byte) } ?? 0
        self.leavesCallback = leavesCallback
    }
}

/// A byte of some frame's stack at a constant address.
struct StackAddress: Hashable, Sendable {
    let frame: Int
    let slot: Int
    let byte: Int
}

/// Per frame (by depth): the registers (bit n = rN) and stack slots (bit n = slot n, slot 0 at
/// fp-512) whose numbers some decision depends on: the kernel's backtracking masks.
struct PrecisionMask: Sendable {
    /// One entry per frame a path may have (`Interpreter.maximumCallDepth`), stored inline: masks
    /// are made and compared at every prune point.
    var registers = InlineArray<8, UInt16>(repeating: 0)
    var slots = InlineArray<8, UInt64>(repeating: 0)

    /// Nothing marked.
    init() {
        assert(registers.count == Interpreter.maximumCallDepth)
    }

    var isEmpty: Bool {
        for depth in registers.indices where registers[depth] != 0 || slots[depth] != 0 { return false }
        return true
    }

    static func bit(_ register: Register) -> UInt16 { 1 << UInt16(register.rawValue) }

    func has(_ register: Register, in depth: Int) -> Bool { registers[depth] & Self.bit(register) != 0 }
    mutating func set(_ register: Register, in depth: Int) { registers[depth] |= Self.bit(register) }
    mutating func clear(_ register: Register, in depth: Int) { registers[depth] &= ~Self.bit(register) }

    /// The registers and slots whose numbers matter before `step`, given those that matter
    /// after it: values flow backwards from what an instruction defines to what it read.
    mutating func backtrack(over step: PathStep, _ operation: Operation) {
        let depth = Int(step.depth)
        // Frames deeper than the instruction's did not exist before it (a call enters one).
        let deeper = depth + 1 < registers.count ? registers[depth + 1] : 0
        for index in (depth + 1)..<registers.count {
            registers[index] = 0
            slots[index] = 0
        }
        let stack: (frame: Int, slot: Int, byte: Int)? = step.stackFrame == PathStep.noFrame ? nil
            : (Int(step.stackFrame), Int(step.stackSlot), Int(step.stackByte))
        func slotMatters(_ address: (frame: Int, slot: Int, byte: Int)) -> Bool {
            slots[address.frame] & (1 << UInt64(address.slot)) != 0
        }
        switch operation {
        case let .alu(.mov, _, dst, source):
            if has(dst, in: depth) {
                clear(dst, in: depth)
                if case .register(let src) = source { set(src, in: depth) }
            }
        case let .alu(_, _, dst, source):
            if has(dst, in: depth), case .register(let src) = source { set(src, in: depth) }
        case .negate, .byteSwap, .jump, .jumpLong:
            break
        case let .moveSignExtend(_, dst, src, _):
            if has(dst, in: depth) {
                clear(dst, in: depth)
                set(src, in: depth)
            }
        case let .loadImmediate64(_, dst, _):
            clear(dst, in: depth)
        case let .load(_, dst, _, _, _):
            if has(dst, in: depth) {
                clear(dst, in: depth)
                // A fill restores what was stored; any other load reads no register's number.
                if let stack { slots[stack.frame] |= 1 << UInt64(stack.slot) }
            }
        case let .store(size, _, src, _):
            guard let stack, slotMatters(stack) else { break }
            if size == .doubleWord {
                slots[stack.frame] &= ~(1 << UInt64(stack.slot))
                set(src, in: depth)
            } else if stack.byte == 0 {
                // A sub-register spill: the fill may read it; the slot's other bytes still matter.
                set(src, in: depth)
            }
        case let .storeImmediate(size, _, _, _):
            if let stack, slotMatters(stack), size == .doubleWord {
                slots[stack.frame] &= ~(1 << UInt64(stack.slot))
            }
        case let .atomic(op, fetch, _, _, src, _):
            // What an atomic fetches is any number: nothing flows into it.
            if fetch || op == .xchg { clear(src, in: depth) }
            if op == .cmpxchg { clear(.r0, in: depth) }
        case .branch(_, _, let dst, .register(let src), _):
            // Each edge refined one by the other: both matter if either does.
            if has(dst, in: depth) || has(src, in: depth) {
                set(dst, in: depth)
                set(src, in: depth)
            }
        case .branch:
            break
        case .call(.local):
            // The callee's r1-r5 are the caller's; the caller's r0-r5 are rewritten at the return.
            registers[depth] = registers[depth] & ~0x3f | deeper & 0x3e
        case .call:
            // A helper defines r0 and leaves r1-r5 unreadable; a helper that runs a callback
            // (bpf_loop) gives it the caller's r3 as r2.
            registers[depth] &= ~0x3f
            if deeper & Self.bit(.r2) != 0 { set(.r3, in: depth) }
        case .exit:
            guard depth > 0 else { break }
            let caller = depth - 1
            if step.leavesCallback {
                // Its r0 went to the helper; a next run gets the caller's r3 as r2.
                let reentered = registers[depth] & Self.bit(.r2) != 0
                registers[caller] &= ~0x3f
                registers[depth] = 0
                slots[depth] = 0
                if reentered { set(.r3, in: caller) }
            } else {
                let returned = has(.r0, in: caller)
                registers[caller] &= ~0x3f
                registers[depth] = returned ? Self.bit(.r0) : 0
                slots[depth] = 0
            }
        }
    }
}
