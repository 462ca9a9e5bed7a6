import BPFVM

/// Which registers and stack slots of a function's frame hold numbers whose exact value may
/// still matter for safety before each instruction: a static over-approximation of the kernel's
/// precision marks (`mark_chain_precision`), computed once as a backward fixpoint.
///
/// A value matters when it may flow, through moves, arithmetic, spills and fills, into an
/// address, a branch condition, a helper or call argument, a stored value, or a checked return
/// value. Every other scalar may differ between two states without changing which instructions
/// are safe, so pruning compares it by type only. Slots are tracked only through accesses at a
/// constant offset from r10; any other access to stack memory makes every slot matter.
struct Precision {
    /// Bit n = rN, before each instruction.
    let registers: [UInt16]
    /// Bit n = stack slot n (slot 0 at fp-512), before each instruction.
    let slots: [UInt64]

    private typealias Marks = (registers: UInt16, slots: UInt64)

    init(_ operations: [Operation?], functionOfSlot: [Int], checksReturnValue: Bool) {
        let count = operations.count
        var registers = [UInt16](repeating: 0, count: count)
        var slots = [UInt64](repeating: 0, count: count)
        var changed = true
        while changed {
            changed = false
            for index in stride(from: count - 1, through: 0, by: -1) {
                guard let operation = operations[index] else { continue }
                var after: Marks = (0, 0)
                for successor in ProgramStructure.successors(of: operation, at: index) where successor >= 0 && successor < count {
                    after.registers |= registers[successor]
                    after.slots |= slots[successor]
                }
                let returnMatters = functionOfSlot[index] != 0 || checksReturnValue
                let before = Self.transfer(operation, after, returnMatters: returnMatters)
                if before.registers != registers[index] || before.slots != slots[index] {
                    registers[index] = before.registers
                    slots[index] = before.slots
                    changed = true
                }
            }
        }
        self.registers = registers
        self.slots = slots
    }

    private static func bit(_ register: Register) -> UInt16 { 1 << UInt16(register.rawValue) }
    private static func bit(_ operand: Operand) -> UInt16 { if case .register(let r) = operand { bit(r) } else { 0 } }

    /// The stack slots `[r10 + offset, + size)` touches, when the base is r10 itself.
    private static func frameSlots(base: Register, offset: Int16, size: MemorySize) -> (mask: UInt64, whole: Bool)? {
        guard base == .r10 else { return nil }
        let bytes = switch size { case .byte: 1; case .half: 2; case .word: 4; case .doubleWord: 8 }
        let start = Int(offset) + Interpreter.stackFrameSize, end = start + bytes
        guard start >= 0, end <= Interpreter.stackFrameSize else { return nil }
        var mask: UInt64 = 0
        for slot in (start / 8)...((end - 1) / 8) { mask |= 1 << UInt64(slot) }
        return (mask, bytes == 8 && start % 8 == 0)
    }

    /// What matters before `operation`, given what matters after it.
    private static func transfer(_ operation: Operation, _ after: Marks, returnMatters: Bool) -> Marks {
        var registers = after.registers, slots = after.slots
        func defines(_ register: Register) -> Bool {
            let matters = registers & bit(register) != 0
            registers &= ~bit(register)
            return matters
        }
        switch operation {
        case .alu(.mov, _, let dst, let source):
            if defines(dst) { registers |= bit(source) }
        case .alu(_, _, let dst, let source):
            if defines(dst) { registers |= bit(dst) | bit(source) }
        case .negate(_, let dst), .byteSwap(_, let dst, _):
            if defines(dst) { registers |= bit(dst) }
        case .moveSignExtend(_, let dst, let src, _):
            if defines(dst) { registers |= bit(src) }
        case .loadImmediate64(_, let dst, _):
            _ = defines(dst)
        case .load(let size, let dst, let src, let offset, _):
            let matters = defines(dst)
            registers |= bit(src)
            if matters {
                slots |= frameSlots(base: src, offset: offset, size: size)?.mask ?? .max
            }
        case .store(let size, let dst, let src, let offset):
            if let (mask, whole) = frameSlots(base: dst, offset: offset, size: size) {
                let matters = slots & mask != 0
                if whole { slots &= ~mask }
                if matters { registers |= bit(src) }
            } else {
                registers |= bit(src)
            }
            registers |= bit(dst)
        case .storeImmediate(let size, let dst, let offset, _):
            if let (mask, whole) = frameSlots(base: dst, offset: offset, size: size), whole { slots &= ~mask }
            registers |= bit(dst)
        case .atomic(let op, _, _, let dst, let src, _):
            registers |= bit(dst) | bit(src) | (op == .cmpxchg ? 1 : 0)
            slots = .max
        case .jump, .jumpLong:
            break
        case .branch(_, _, let dst, let source, _):
            registers |= bit(dst) | bit(source)
        case .call(let target):
            registers &= ~0x3f
            registers |= 0x3e
            if case .register(let register) = target { registers |= bit(register) }
            // Helpers and callees may read any stack memory a pointer reaches.
            slots = .max
        case .exit:
            registers = returnMatters ? 1 : 0
            slots = 0
        }
        return (registers | 1 << 10, slots)
    }
}
