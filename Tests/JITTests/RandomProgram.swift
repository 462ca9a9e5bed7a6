import BPFVM
import TestSupport

/// Random programs the verifier accepts (most of the time): every instruction form, over a
/// 64-byte context (r1, kept in r9) and the stack, with forward branches, bpf-to-bpf calls,
/// helper calls and `bpf_loop` callbacks, and no loops of their own (so every path ends).
///
/// The generator tracks which registers and stack slots are initialised on every path (a
/// branch's target gets what both ways have in common), reads only those, keeps r9 the context
/// pointer, and never turns a pointer into anything but a base of a load, store or atomic.
struct RandomProgram {
    static let contextSize = 64
    /// Helper 1: a pure function of r1-r5 (an `anything` prototype).
    static let mixHelperID: Int32 = 1
    static let loopHelperID: Int32 = 181

    private(set) var main: [Operation] = []
    private var rng: SplitMix64
    /// Registers r0-r8 initialised on the path being generated.
    private var initialized: UInt16 = 0
    /// 8-byte stack slots (by -offset/8, 1...8) written with a whole word on the path.
    private var stack: UInt16 = 0
    /// Where pending branches land (operation index) and what is initialised on their way.
    private var merges: [(target: Int, registers: UInt16, stack: UInt16)] = []
    /// Forward branches to patch: (operation index of the branch, target operation index).
    private var branches: [(Int, Int)] = []
    /// Unconditional forward jumps to patch: (operation index, target operation index).
    private var jumps: [(Int, Int)] = []
    /// Operations emitted together for one random pick (argument set-up and the call, ...).
    private var sequences: [Range<Int>] = []
    /// Calls to patch: (operation index, which function: 0 callee, 1 callback).
    private var calls: [(Int, Int)] = []

    /// The program as slots: main, then the callee, then the callback.
    private(set) var instructions: [Instruction] = []

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
        main.append(.alu(.mov, .bits64, dst: .r9, source: .register(.r1)))
        for register in 0...8 { initialize(Register(rawValue: UInt8(register))!) }
        let length = Int.random(in: 5...40, using: &rng)
        var emitted = 0
        while emitted < length {
            applyMerges()
            let start = main.count
            emitRandom(remaining: length - emitted)
            if main.count - start > 1 { sequences.append(start..<main.count) }
            emitted += 1
        }
        applyMerges(upTo: Int.max)
        main.append(.exit)
        // Patch branch offsets (in slots) now that every operation is placed.
        // Only functions something calls (an unreachable one is an error).
        let callee = calls.contains { $0.1 == 0 } ? Self.callee(&rng) : []
        let callback = calls.contains { $0.1 == 1 } ? Self.callback(&rng) : []
        var slotOf = [Int](repeating: 0, count: main.count + 1)
        for index in main.indices { slotOf[index + 1] = slotOf[index] + main[index].slotCount }
        for (index, proposed) in branches {
            // A branch lands after a sequence made for one instruction, never inside it.
            let target = sequences.first { $0.lowerBound < proposed && proposed < $0.upperBound }?.upperBound ?? proposed
            guard case let .branch(condition, width, dst, source, _) = main[index] else { continue }
            main[index] = .branch(condition, width, dst: dst, source: source, offset: Int16(slotOf[min(target, main.count - 1)] - slotOf[index] - 1))
        }
        for (index, proposed) in jumps {
            let target = sequences.first { $0.lowerBound < proposed && proposed < $0.upperBound }?.upperBound ?? proposed
            main[index] = .jump(offset: Int16(slotOf[min(target, main.count - 1)] - slotOf[index] - 1))
        }
        let calleeStart = slotOf[main.count]
        let callbackStart = calleeStart + callee.reduce(0) { $0 + $1.slotCount }
        for (index, function) in calls {
            let start = function == 0 ? calleeStart : callbackStart
            let distance = Int32(start - slotOf[index] - 1)
            if function == 0 {
                main[index] = .call(.local(distance))
            } else if case let .loadImmediate64(_, dst, _) = main[index] {
                main[index] = .loadImmediate64(.codeAddress, dst: dst, value: UInt64(UInt32(bitPattern: distance)))
            }
        }
        instructions = (main + callee + callback).flatMap(\.encoded)
    }

    // MARK: State

    private mutating func initialize(_ register: Register) {
        let value: Operand = .immediate(Self.interestingImmediate(&rng))
        if Bool.random(using: &rng) {
            main.append(.alu(.mov, .bits64, dst: register, source: value))
        } else {
            main.append(.loadImmediate64(.immediate, dst: register, value: Self.interestingValue(&rng)))
        }
        initialized |= 1 << register.rawValue
    }

    private mutating func applyMerges(upTo target: Int? = nil) {
        let here = target ?? main.count
        for merge in merges where merge.target <= here {
            initialized &= merge.registers
            stack &= merge.stack
        }
        merges.removeAll { $0.target <= here }
    }

    private mutating func anyWritable() -> Register { Register(rawValue: UInt8.random(in: 0...8, using: &rng))! }

    /// An initialised register of r0-r8 (initialising one when there is none).
    private mutating func anyInitialized() -> Register {
        let candidates = (0...8).filter { initialized & (1 << $0) != 0 }
        if candidates.isEmpty {
            let register = anyWritable()
            initialize(register)
            return register
        }
        return Register(rawValue: UInt8(candidates.randomElement(using: &rng)!))!
    }

    private mutating func written(_ register: Register) { initialized |= 1 << register.rawValue }

    /// r1-r5 hold values (calls read their arguments).
    private mutating func initializeArguments() {
        for register in 1...5 where initialized & (1 << register) == 0 { initialize(Register(rawValue: UInt8(register))!) }
    }

    private mutating func afterCall() { initialized = (initialized & ~0x3e) | 1 }

    // MARK: Instructions

    private mutating func emitRandom(remaining: Int) {
        let width: OperandWidth = Bool.random(using: &rng) ? .bits64 : .bits32
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<22:  // ALU, register source
            let op = ALUOperation.allCases.randomElement(using: &rng)!
            let src = anyInitialized()
            let dst = op == .mov ? anyWritable() : anyInitialized()
            main.append(.alu(op, width, dst: dst, source: .register(src)))
            written(dst)
        case 22..<40:  // ALU, immediate source
            let op = ALUOperation.allCases.randomElement(using: &rng)!
            var imm = Self.interestingImmediate(&rng)
            switch op {
            case .lsh, .rsh, .arsh: imm = Int32.random(in: 0..<(width == .bits64 ? 64 : 32), using: &rng)
            case .div, .sdiv, .mod, .smod where imm == 0: imm = 7
            default: break
            }
            let dst = op == .mov ? anyWritable() : anyInitialized()
            main.append(.alu(op, width, dst: dst, source: .immediate(imm)))
            written(dst)
        case 40..<44:
            let dst = anyInitialized()
            main.append(.negate(width, dst: dst))
        case 44..<48:
            let bits = (width == .bits64 ? [8, 16, 32] : [8, 16]).randomElement(using: &rng)!
            let src = anyInitialized(), dst = anyWritable()
            main.append(.moveSignExtend(width, dst: dst, src: src, bits: bits))
            written(dst)
        case 48..<52:
            let dst = anyInitialized()
            main.append(.byteSwap(ByteSwap.allCases.randomElement(using: &rng)!, dst: dst, bits: [16, 32, 64].randomElement(using: &rng)!))
        case 52..<55:
            let dst = anyWritable()
            main.append(.loadImmediate64(.immediate, dst: dst, value: Self.interestingValue(&rng)))
            written(dst)
        case 55..<63:  // context loads
            let size = MemorySize.allCases.randomElement(using: &rng)!
            let dst = anyWritable()
            let offset = Int16.random(in: 0...Int16(Self.contextSize - size.byteCount), using: &rng)
            let signExtend = size != .doubleWord && Int.random(in: 0..<4, using: &rng) == 0
            main.append(.load(size, dst: dst, src: .r9, offset: offset, signExtend: signExtend))
            written(dst)
        case 63..<69:  // context stores
            let size = MemorySize.allCases.randomElement(using: &rng)!
            let offset = Int16.random(in: 0...Int16(Self.contextSize - size.byteCount), using: &rng)
            if Bool.random(using: &rng) {
                main.append(.store(size, dst: .r9, src: anyInitialized(), offset: offset))
            } else {
                main.append(.storeImmediate(size, dst: .r9, offset: offset, value: Self.interestingImmediate(&rng)))
            }
        case 69..<74:  // stack: write a whole slot, or read one written before
            let slot = Int.random(in: 1...8, using: &rng)
            if stack & (1 << slot) != 0 && Bool.random(using: &rng) {
                let size = MemorySize.allCases.randomElement(using: &rng)!
                let within = Int16(Int.random(in: 0..<(8 / size.byteCount), using: &rng) * size.byteCount)
                let dst = anyWritable()
                main.append(.load(size, dst: dst, src: .r10, offset: Int16(-8 * slot) + within, signExtend: false))
                written(dst)
            } else {
                main.append(.store(.doubleWord, dst: .r10, src: anyInitialized(), offset: Int16(-8 * slot)))
                stack |= 1 << slot
            }
        case 74..<80:  // atomics on the context, aligned
            let size: MemorySize = Bool.random(using: &rng) ? .word : .doubleWord
            let op = AtomicOperation.allCases.randomElement(using: &rng)!
            let fetch = op.alwaysFetches || Bool.random(using: &rng)
            let offset = Int16(Int.random(in: 0..<(Self.contextSize / size.byteCount), using: &rng) * size.byteCount)
            if op == .cmpxchg { _ = anyInitialized(); if initialized & 1 == 0 { initialize(.r0) } }
            let src = anyInitialized()
            main.append(.atomic(op, fetch: fetch, size, dst: .r9, src: src, offset: offset))
        case 80..<91:  // a forward branch over a few operations
            let condition = JumpCondition.allCases.randomElement(using: &rng)!
            let dst = anyInitialized()
            let source: Operand = Bool.random(using: &rng) ? .register(anyInitialized()) : .immediate(Self.interestingImmediate(&rng))
            let skip = Int.random(in: 1...max(1, min(6, remaining)), using: &rng)
            let target = main.count + 1 + skip
            branches.append((main.count, target))
            merges.append((target, initialized, stack))
            main.append(.branch(condition, width, dst: dst, source: source, offset: 0))
        case 91..<92:  // `rX = rY; rX += imm or rZ` (compiled as one lea)
            let src = anyInitialized(), dst = anyWritable()
            main.append(.alu(.mov, .bits64, dst: dst, source: .register(src)))
            let addend: Operand = Bool.random(using: &rng) ? .immediate(Self.interestingImmediate(&rng)) : .register(anyInitialized())
            main.append(.alu(.add, .bits64, dst: dst, source: addend))
            written(dst)
        case 92..<93:  // a branch over a jump (compiled as one opposite branch)
            let dst = anyInitialized()
            let source: Operand = Bool.random(using: &rng) ? .register(anyInitialized()) : .immediate(Self.interestingImmediate(&rng))
            let skip = Int.random(in: 1...max(1, min(6, remaining)), using: &rng)
            let jumpTarget = main.count + 2 + skip
            branches.append((main.count, main.count + 2))
            jumps.append((main.count + 1, jumpTarget))
            merges.append((jumpTarget, initialized, stack))
            main.append(.branch(JumpCondition.allCases.randomElement(using: &rng)!, width, dst: dst, source: source, offset: 0))
            main.append(.jump(offset: 0))
        case 93..<94:  // helper
            initializeArguments()
            main.append(.call(.helper(Self.mixHelperID)))
            afterCall()
        case 94..<97:  // bpf-to-bpf call
            initializeArguments()
            calls.append((main.count, 0))
            main.append(.call(.local(0)))
            afterCall()
        default:  // bpf_loop over the callback
            main.append(.alu(.mov, .bits64, dst: .r1, source: .immediate(Int32.random(in: 0...6, using: &rng))))
            calls.append((main.count, 1))
            main.append(.loadImmediate64(.codeAddress, dst: .r2, value: 0))
            main.append(.alu(.mov, .bits64, dst: .r3, source: .immediate(Self.interestingImmediate(&rng))))
            main.append(.alu(.mov, .bits64, dst: .r4, source: .immediate(0)))
            main.append(.call(.helper(Self.loopHelperID)))
            afterCall()
        }
    }

    /// The bpf-to-bpf callee: a few ALU operations over its arguments, with its own stack.
    private static func callee(_ rng: inout SplitMix64) -> [Operation] {
        var code: [Operation] = [.alu(.mov, .bits64, dst: .r0, source: .register(.r1))]
        for _ in 0..<Int.random(in: 1...6, using: &rng) {
            let op = ALUOperation.allCases.randomElement(using: &rng)!
            let dst = Register(rawValue: UInt8.random(in: 0...5, using: &rng))!
            let src = Register(rawValue: UInt8.random(in: 0...5, using: &rng))!
            code.append(.alu(op, Bool.random(using: &rng) ? .bits64 : .bits32, dst: dst, source: .register(src)))
        }
        code.append(.store(.doubleWord, dst: .r10, src: .r0, offset: -16))
        code.append(.load(.word, dst: .r6, src: .r10, offset: -12, signExtend: false))
        code.append(.alu(.xor, .bits64, dst: .r0, source: .register(.r6)))
        code.append(.exit)
        return code
    }

    /// The `bpf_loop` callback: returns 1 (stop) or 0 from its turn number and context.
    private static func callback(_ rng: inout SplitMix64) -> [Operation] {
        [
            .alu(.mov, .bits64, dst: .r0, source: .register(.r1)),
            .alu(.add, .bits64, dst: .r0, source: .register(.r2)),
            .alu(.rsh, .bits64, dst: .r0, source: .immediate(Int32.random(in: 0...2, using: &rng))),
            .alu(.and, .bits64, dst: .r0, source: .immediate(1)),
            .exit,
        ]
    }

    // MARK: Values

    private static let immediates: [Int32] = [0, 1, -1, 2, 7, 31, 32, 63, 64, 255, -128, 0x7fff, -0x8000, .min, .max, 0x1234_5678]

    static func interestingImmediate(_ rng: inout SplitMix64) -> Int32 {
        Bool.random(using: &rng) ? immediates.randomElement(using: &rng)! : Int32(truncatingIfNeeded: rng.next())
    }

    static func interestingValue(_ rng: inout SplitMix64) -> UInt64 {
        Bool.random(using: &rng) ? edgeValues.randomElement(using: &rng)! : rng.next()
    }
}
