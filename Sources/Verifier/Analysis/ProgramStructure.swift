import BPFVM

/// The shape of a program the abstract interpretation walks: its instructions by slot, its
/// functions (the entry point, every local call target and every callback), the prune points,
/// and which registers are live before each instruction. Building it rejects what the kernel's
/// CFG pass rejects: jumps leaving their function, unreachable instructions, functions that can
/// fall off their end, immediate division by zero, unresolved `lddw` forms, maps of maps without an inner-map
/// template, and unknown helpers (except calls the loader poisoned, which fail only where a path reaches them).
struct ProgramStructure {
    /// The operation starting at each slot (nil for the second slot of an `lddw`).
    let operations: [Operation?]
    /// The first instruction of each function, sorted; the entry point is 0.
    let functionStarts: [Int]
    /// For each slot, the index in `functionStarts` of the function it belongs to.
    let functionOfSlot: [Int]
    /// Instructions where states are recorded and compared (jump targets, after calls, function starts).
    let prunePoints: [Bool]
    /// Registers (bit n = rN) that may be read before being written, from each instruction on.
    let liveIn: [UInt16]

    init(_ program: Program, environment: VerificationEnvironment) throws(VerifierError) {
        let count = program.instructions.count
        var operations = [Operation?](repeating: nil, count: count)
        for (index, operation) in program.operations { operations[index] = operation }
        self.operations = operations

        // Functions and per-instruction checks.
        var starts: Set<Int> = [0]
        for (index, operation) in program.operations {
            switch operation {
            case .call(.local(let offset)):
                starts.insert(index + 1 + Int(offset))
            case .loadImmediate64(.codeAddress, _, let value):
                starts.insert(index + 1 + Int(Int32(truncatingIfNeeded: value)))
            case .loadImmediate64(.mapByIndex, _, let value), .loadImmediate64(.mapValueByIndex, _, let value):
                let map = Int(UInt32(truncatingIfNeeded: value))
                guard map < environment.maps.count else { throw VerifierError(.invalidMapIndex(map), at: index) }
                let definition = environment.maps[map]
                if definition.type.holdsMaps && definition.innerMap == nil {
                    throw VerifierError(.missingInnerMapTemplate(definition.name), at: index)
                }
            case .loadImmediate64(.immediate, _, _):
                break
            case .loadImmediate64:
                throw VerifierError(.unresolvedLoadImmediate, at: index)
            case .alu(let op, _, _, .immediate(0)) where op == .div || op == .sdiv || op == .mod || op == .smod:
                throw VerifierError(.divisionByZero, at: index)
            case .alu(let op, let width, _, .immediate(let count))
                where (op == .lsh || op == .rsh || op == .arsh) && (count < 0 || count >= (width == .bits64 ? 64 : 32)):
                throw VerifierError(.invalidShift(count), at: index)
            case .call(.helper(let id)):
                guard environment.helpers[id] != nil || program.metadata.poisonReason(at: index) != nil else {
                    throw VerifierError(.unknownHelper(id), at: index)
                }
            case .call(.kfunc):
                throw VerifierError(.unsupportedCall("calling kernel functions (kfuncs)"), at: index)
            default:
                break
            }
        }
        for start in starts where start < 0 || start >= count || operations[start] == nil {
            throw VerifierError(.invalidCallTarget(start), at: nil)
        }
        let sortedStarts = starts.sorted()
        functionStarts = sortedStarts
        var functionOfSlot = [Int](repeating: 0, count: count)
        var function = 0
        for slot in 0..<count {
            while function + 1 < sortedStarts.count && sortedStarts[function + 1] <= slot { function += 1 }
            functionOfSlot[slot] = function
        }
        self.functionOfSlot = functionOfSlot

        // Every function ends in an exit or a jump, and its jumps stay inside it.
        for (number, start) in sortedStarts.enumerated() {
            let end = number + 1 < sortedStarts.count ? sortedStarts[number + 1] : count
            var last = end - 1
            if operations[last] == nil { last -= 1 }
            switch operations[last] {
            case .exit?, .jump?, .jumpLong?: break
            default: throw VerifierError(.fallsOffEnd, at: last)
            }
            _ = start
        }

        // Reachability from every function start, and prune points.
        var reachable = [Bool](repeating: false, count: count)
        var prunePoints = [Bool](repeating: false, count: count)
        for start in sortedStarts { prunePoints[start] = true }
        var pending = sortedStarts
        for start in sortedStarts { reachable[start] = true }
        while let index = pending.popLast() {
            guard let operation = operations[index] else { continue }
            for successor in Self.successors(of: operation, at: index) {
                guard successor >= 0 && successor < count else {
                    throw VerifierError(.jumpOutOfRange(from: index, to: successor), at: index)
                }
                guard operations[successor] != nil else {
                    throw VerifierError(.jumpIntoLoadImmediate(successor), at: index)
                }
                if functionOfSlot[successor] != functionOfSlot[index] {
                    throw VerifierError(.jumpOutOfRange(from: index, to: successor), at: index)
                }
                if successor != index + operation.slotCount { prunePoints[successor] = true }
                if !reachable[successor] {
                    reachable[successor] = true
                    pending.append(successor)
                }
            }
            if case .call = operation, index + 1 < count { prunePoints[index + 1] = true }
        }
        for slot in 0..<count where operations[slot] != nil && !reachable[slot] {
            throw VerifierError(.unreachable(slot), at: slot)
        }
        self.prunePoints = prunePoints
        self.liveIn = Self.liveness(operations, environment: environment)
    }

    /// Where control may go after `operation` at `index`, within its function.
    static func successors(of operation: Operation, at index: Int) -> [Int] {
        let next = index + operation.slotCount
        switch operation {
        case .exit: return []
        case .jump(let offset): return [index + 1 + Int(offset)]
        case .jumpLong(let offset): return [index + 1 + Int(offset)]
        case .branch(_, _, _, _, let offset): return [next, index + 1 + Int(offset)]
        default: return [next]
        }
    }

    /// Registers read and written by `operation` (bit n = rN).
    static func registerEffects(_ operation: Operation, helpers: HelperTable) -> (reads: UInt16, writes: UInt16) {
        func bit(_ register: Register) -> UInt16 { 1 << UInt16(register.rawValue) }
        func bit(_ operand: Operand) -> UInt16 { if case .register(let r) = operand { bit(r) } else { 0 } }
        switch operation {
        case .alu(.mov, _, let dst, let source): return (bit(source), bit(dst))
        case .alu(_, _, let dst, let source): return (bit(dst) | bit(source), bit(dst))
        case .negate(_, let dst), .byteSwap(_, let dst, _): return (bit(dst), bit(dst))
        case .moveSignExtend(_, let dst, let src, _): return (bit(src), bit(dst))
        case .loadImmediate64(_, let dst, _): return (0, bit(dst))
        case .load(_, let dst, let src, _, _): return (bit(src), bit(dst))
        case .storeImmediate(_, let dst, _, _): return (bit(dst), 0)
        case .store(_, let dst, let src, _): return (bit(dst) | bit(src), 0)
        case .atomic(let op, let fetch, _, let dst, let src, _):
            var writes: UInt16 = fetch || op == .xchg || op == .cmpxchg ? bit(src) : 0
            var reads = bit(dst) | bit(src)
            if op == .cmpxchg { reads |= 1; writes = 1 }
            return (reads, writes)
        case .jump, .jumpLong: return (0, 0)
        case .branch(_, _, let dst, let source, _): return (bit(dst) | bit(source), 0)
        case .call(.helper(let id)):
            let count = helpers[id]?.arguments.count ?? 5
            return (UInt16((1 << (count + 1)) - 2), 0x3f)
        case .call: return (0x3e, 0x3f)
        case .exit: return (1, 0)
        }
    }

    /// A backward fixpoint of register liveness inside each function (r10 is always live).
    private static func liveness(_ operations: [Operation?], environment: VerificationEnvironment) -> [UInt16] {
        let count = operations.count
        var liveIn = [UInt16](repeating: 0, count: count)
        var effects = [(reads: UInt16, writes: UInt16)](repeating: (0, 0), count: count)
        for index in 0..<count {
            if let operation = operations[index] { effects[index] = registerEffects(operation, helpers: environment.helpers) }
        }
        var changed = true
        while changed {
            changed = false
            for index in stride(from: count - 1, through: 0, by: -1) {
                guard let operation = operations[index] else { continue }
                var liveOut: UInt16 = 0
                for successor in successors(of: operation, at: index) where successor >= 0 && successor < count {
                    liveOut |= liveIn[successor]
                }
                let value = effects[index].reads | (liveOut & ~effects[index].writes) | (1 << 10)
                if value != liveIn[index] {
                    liveIn[index] = value
                    changed = true
                }
            }
        }
        return liveIn
    }
}
