import BPFVM

/// What the compiler needs to know about a program before emitting code: its functions (each
/// compiled as a native function), where jumps land, which callee-saved registers each
/// function touches, and that nothing in it defeats compiling functions separately (jumps that
/// leave their function, falling into the next one, recursion, too deep a chain of calls).
struct ProgramShape {
    /// One BPF function and what its native frame needs.
    struct Function {
        /// Its slots: `start..<end`.
        let start: Int
        let end: Int
        /// Whether it reads r10 (then rbp is set up as its frame pointer).
        var usesFramePointer = false
        /// The callee-saved registers (of r6-r9's rbx, r13, r14, r15) it mentions, in push order.
        var savedRegisters: [X86Register] = []
        /// Whether it calls anything (its stack must then be 16-byte aligned at calls).
        var makesCalls = false
        /// Bytes of BPF stack it uses below r10 (a multiple of 8).
        var stackSize = 0
    }

    let functions: [Function]
    /// For each slot, the index of its function.
    let functionOfSlot: [Int]
    /// Whether a jump (or a function start) lands on each slot.
    let isJumpTarget: [Bool]

    /// `stackDepths` gives each function's stack use (the verifier's), in function order; without
    /// it every function gets the whole 512 bytes.
    init(_ program: Program, stackDepths: [Int]?) throws(JITError) {
        let count = program.instructions.count
        var isStart = [Bool](repeating: false, count: count)
        isStart[0] = true
        var isJumpTarget = [Bool](repeating: false, count: count)
        // Edges of the call graph: (calling slot, called function start).
        var calls: [(Int, Int)] = []
        for (index, operation) in program.operations {
            switch operation {
            case .call(.local(let offset)):
                isStart[index + 1 + Int(offset)] = true
                calls.append((index, index + 1 + Int(offset)))
            case .loadImmediate64(.codeAddress, _, let value):
                let target = index + 1 + Int(Int32(truncatingIfNeeded: value))
                isStart[target] = true
                calls.append((index, target))
            case .loadImmediate64(let kind, _, _) where kind != .immediate:
                throw JITError(.unresolvedLoadImmediate(kind), at: index)
            case .call(.kfunc(let id)):
                throw JITError(.kfuncCall(id), at: index)
            case .jump, .jumpLong, .branch:
                isJumpTarget[index + 1 + operation.jumpOffset!] = true
            default:
                break
            }
        }
        var functionOfSlot = [Int](repeating: 0, count: count)
        var functions: [Function] = []
        for slot in 0..<count {
            if isStart[slot] {
                if let last = functions.indices.last { functions[last] = Function(start: functions[last].start, end: slot) }
                functions.append(Function(start: slot, end: count))
                isJumpTarget[slot] = true
            }
            functionOfSlot[slot] = functions.count - 1
        }
        for number in functions.indices {
            let depth = stackDepths.flatMap { number < $0.count ? $0[number] : nil } ?? Interpreter.stackFrameSize
            functions[number].stackSize = (depth + 7) / 8 * 8
        }

        var mentioned = [UInt16](repeating: 0, count: functions.count)
        var last: [Operation?] = Array(repeating: nil, count: functions.count)
        for (index, operation) in program.operations {
            let number = functionOfSlot[index]
            last[number] = operation
            mentioned[number] |= Self.registersMentioned(by: operation)
            switch operation {
            case .call: functions[number].makesCalls = true
            case .jump, .jumpLong, .branch:
                let target = index + 1 + operation.jumpOffset!
                if functionOfSlot[target] != number { throw JITError(.jumpLeavesFunction(target: target), at: index) }
            default: break
            }
        }
        for number in functions.indices {
            switch last[number] {
            case .exit?, .jump?, .jumpLong?: break
            default: throw JITError(.fallsIntoNextFunction, at: functions[number].end - 1)
            }
            functions[number].usesFramePointer = mentioned[number] & (1 << 10) != 0
            for register in 6...9 where mentioned[number] & (1 << register) != 0 {
                functions[number].savedRegisters.append(RegisterMap.x86[register])
            }
        }
        self.functions = functions
        self.functionOfSlot = functionOfSlot
        self.isJumpTarget = isJumpTarget
        if functions.count > 1 { try Self.checkCalls(calls, functions: functions, functionOfSlot: functionOfSlot) }
    }

    /// Calls and callbacks form no cycle, and no chain nests more frames than a run allows.
    private static func checkCalls(_ calls: [(Int, Int)], functions: [Function], functionOfSlot: [Int]) throws(JITError) {
        var callees = [[Int]](repeating: [], count: functions.count)
        for (slot, target) in calls { callees[functionOfSlot[slot]].append(functionOfSlot[target]) }
        // Frames on the deepest chain from each function (0: not yet known), computed depth first.
        var frames = [Int](repeating: 0, count: functions.count)
        var onPath = [Bool](repeating: false, count: functions.count)
        func depth(_ function: Int) throws(JITError) -> Int {
            if frames[function] != 0 { return frames[function] }
            if onPath[function] { throw JITError(.recursion, at: functions[function].start) }
            onPath[function] = true
            var deepest = 0
            for callee in callees[function] { deepest = max(deepest, try depth(callee)) }
            onPath[function] = false
            frames[function] = deepest + 1
            return deepest + 1
        }
        for function in functions.indices {
            let nested = try depth(function)
            if nested > Interpreter.maximumCallDepth {
                throw JITError(.callChainTooDeep(frames: nested, limit: Interpreter.maximumCallDepth))
            }
        }
    }

    /// The registers an operation writes (bit n = rN); calls write r0-r5 (r1-r5 become unknown).
    static func registersWritten(by operation: Operation) -> UInt16 {
        switch operation {
        case let .alu(_, _, dst, _), let .negate(_, dst), let .moveSignExtend(_, dst, _, _), let .byteSwap(_, dst, _),
             let .loadImmediate64(_, dst, _), let .load(_, dst, _, _, _):
            return 1 << dst.rawValue
        case let .atomic(op, fetch, _, _, src, _):
            return op == .cmpxchg ? 1 : fetch ? 1 << src.rawValue : 0
        case .call: return 0x3f
        case .storeImmediate, .store, .jump, .jumpLong, .branch, .exit: return 0
        }
    }

    /// The registers an operation names (bit n = rN), read or written.
    static func registersMentioned(by operation: Operation) -> UInt16 {
        func bit(_ register: Register) -> UInt16 { 1 << register.rawValue }
        func bits(_ operand: Operand) -> UInt16 {
            if case .register(let register) = operand { return bit(register) }
            return 0
        }
        switch operation {
        case let .alu(_, _, dst, source): return bit(dst) | bits(source)
        case let .negate(_, dst): return bit(dst)
        case let .moveSignExtend(_, dst, src, _): return bit(dst) | bit(src)
        case let .byteSwap(_, dst, _): return bit(dst)
        case let .loadImmediate64(_, dst, _): return bit(dst)
        case let .load(_, dst, src, _, _): return bit(dst) | bit(src)
        case let .storeImmediate(_, dst, _, _): return bit(dst)
        case let .store(_, dst, src, _): return bit(dst) | bit(src)
        case let .atomic(_, _, _, dst, src, _): return bit(dst) | bit(src) | 1
        case let .branch(_, _, dst, source, _): return bit(dst) | bits(source)
        case .call(.register(let register)): return bit(register) | 0x3f
        case .call: return 0x3f
        case .jump, .jumpLong, .exit: return 1
        }
    }
}

/// Where BPF registers live in machine registers (the kernel's mapping: r1-r5 are the first
/// five argument registers of the C calling convention, so helpers need no shuffling; r6-r9
/// and r10 are callee-saved, so they survive calls), and the registers the JIT keeps for itself.
enum RegisterMap {
    /// The machine register of r0 ... r10.
    static let x86: [X86Register] = [.rax, .rdi, .rsi, .rdx, .rcx, .r8, .rbx, .r13, .r14, .r15, .rbp]
    /// The run block (`JITRun`) of the current run, for the whole run: callee-saved, so helpers
    /// and every compiled function keep it.
    static let run: X86Register = .r12
    /// Scratch registers no BPF register lives in (caller-saved).
    static let scratch: X86Register = .r11
    static let scratch2: X86Register = .r10
    static let scratch3: X86Register = .r9

    @inline(__always) static func of(_ register: Register) -> X86Register { x86[Int(register.rawValue)] }
}
