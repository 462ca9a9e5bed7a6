import BPFVM

/// The abstract interpretation of one program: walks every path from the entry point the way
/// the kernel's `do_check` does, one instruction at a time over an `AbstractState`, forking at
/// branches whose outcome is not decided, and stops a path when its state at a prune point is
/// subsumed by one already proven safe there.
///
/// Numbers start imprecise: pruning lets any number stand for an imprecise one. When a decision
/// depends on a number (an address, a branch decided by it, a size, a checked return value),
/// `markPrecise` walks the path back and marks where it came from precise in the checkpoints
/// along it (the kernel's mark_chain_precision).
final class Analyzer {
    let program: Program
    let structure: ProgramStructure
    let environment: VerificationEnvironment
    /// The environment's maps and the inner-map templates of its maps of maps.
    let maps: ReachableMaps
    let options: VerifierOptions
    var log: VerifierLog

    /// Instructions processed over all paths (the kernel's complexity measure).
    var processed = 0
    var totalStates = 0
    var peakStates = 0
    /// The deepest stack access of each function, in bytes (by function index).
    var stackDepth: [Int]
    /// Loads through host pointers, which must not fault at run time.
    var hostLoads: Set<Int> = []
    /// Paths waiting to be explored: the state, the checkpoint that owns it and the steps since.
    private var pending: [(state: AbstractState, owner: Checkpoint?, steps: [PathStep], origin: Int?)] = []
    /// States recorded at each prune point.
    private var visited: [[Checkpoint]]
    /// The checkpoint the path being explored last passed, and the steps it took since.
    private var owner: Checkpoint?
    private var steps: [PathStep] = []
    /// The stack byte the current instruction loaded or stored at a constant address.
    var stackAddress: StackAddress?
    private var checkpointCount = 0
    private var liveStates = 0
    /// Jumps processed over all paths, and both counts when the last checkpoint was recorded.
    private var jumps = 0
    private var processedAtCheckpoint = 0
    private var jumpsAtCheckpoint = 0

    init(program: Program, structure: ProgramStructure, environment: VerificationEnvironment,
         options: VerifierOptions)
    {
        self.program = program
        self.structure = structure
        self.environment = environment
        self.maps = ReachableMaps(environment.maps)
        self.options = options
        self.log = VerifierLog(level: options.logLevel, program: program, helpers: environment.helpers)
        self.stackDepth = Array(repeating: 0, count: structure.functionStarts.count)
        self.visited = Array(repeating: [], count: program.instructions.count)
    }

    /// Explores every path; throws at the first unsafe instruction.
    func run() throws(VerifierError) {
        var initial = AbstractState(frames: [Frame(callSite: -1, function: 0)])
        initial[1] = .pointer(.context)
        initial[10] = .pointer(.stack(frame: 0))
        if case .memory(let size, true) = environment.context { initial[2] = .constant(UInt64(size)) }
        log.functionTable(structure.functionStarts)
        log.entryState(initial)
        pending.append((initial, nil, [], nil))
        while let (state, owner, steps, origin) = pending.popLast() {
            self.owner = owner
            self.steps = steps
            try explore(state, origin: origin)
        }
    }

    /// Follows one path until it ends, forking the other edge of each undecided branch.
    private func explore(_ start: AbstractState, origin: Int?) throws(VerifierError) {
        var state = start
        log.beginPath(state, from: origin)
        while true {
            if structure.prunePoints[state.pc] {
                if try isPruned(&state) {
                    log.pruned(state.pc)
                    log.endPath()
                    finish(owner)
                    return
                }
            }
            processed += 1
            if processed > options.instructionLimit {
                throw VerifierError(.tooLarge(processed: processed), at: state.pc)
            }
            let pc = state.pc
            guard let operation = structure.operations[pc] else {
                throw VerifierError(.jumpIntoLoadImmediate(pc), at: pc)
            }
            log.instruction(pc, operation)
            let depth = state.depth
            let leavesCallback = state.current.callback != nil
            var forks: [AbstractState] = []
            stackAddress = nil
            let continues = try step(operation, at: pc, &state, forks: &forks)
            if log.level >= 2 {
                log.after(operation, state: state,
                          written: ProgramStructure.registerEffects(operation, helpers: environment.helpers).writes)
            }
            steps.append(PathStep(pc: pc, depth: depth, stack: stackAddress,
                                  leavesCallback: leavesCallback))
            if state.pc != pc + operation.slotCount { jumps += 1 }
            for fork in forks {
                owner?.branches += 1
                pending.append((fork, owner, steps, pc))
                if pending.count > options.pendingLimit { throw VerifierError(.tooComplex, at: pc) }
            }
            if !continues {
                log.endPath()
                finish(owner)
                return
            }
        }
    }

    /// A path ended: its checkpoints lose a live branch; those left with none are complete.
    private func finish(_ owner: Checkpoint?) {
        var current = owner
        while let checkpoint = current {
            checkpoint.branches -= 1
            guard checkpoint.branches == 0 else { return }
            current = checkpoint.parent
        }
    }

    /// Whether `state` is covered by a state proven safe at its instruction. Records it as a new
    /// checkpoint otherwise. An equal state still being explored is a loop that cannot end:
    /// `infinite loop detected`, except when re-entering a callback (which the helper bounds).
    ///
    /// A complete checkpoint's imprecise numbers stand for any number; the precise ones it
    /// holds then matter on this path too. A checkpoint whose marks may still grow (one still
    /// being explored, or one whose subtree was cut short by such a one) is compared exactly.
    private func isPruned(_ state: inout AbstractState) throws(VerifierError) -> Bool {
        let pc = state.pc
        let live = liveness(of: state)
        let reenteringCallback = state.current.callback != nil && pc == state.current.function
        // A checkpoint every few instructions would mostly be compared in vain: as the kernel,
        // record one only after 2 jumps and 8 instructions since the last, and in a loop (a
        // checkpoint here is still being explored) after 20 jumps or 100 instructions. Function
        // starts (callbacks converge there) always get one.
        let sinceJumps = jumps - jumpsAtCheckpoint, sinceProcessed = processed - processedAtCheckpoint
        let inLoop = visited[pc].contains { $0.branches > 0 }
        let records = pc == state.current.function
            || sinceJumps >= 2 && sinceProcessed >= 8 && (!inLoop || sinceJumps >= 20 || sinceProcessed >= 100)
        var useless: [Int] = []
        for (index, checkpoint) in visited[pc].enumerated() {
            let exact = checkpoint.branches > 0 || (checkpoint.loopEntry?.branches ?? 0) > 0
            guard state.isSubsumed(by: checkpoint.state, live: live, precise: exact ? nil : checkpoint.marks) else {
                // A callback entered again with other numbers: generalise them, so that the
                // iterations converge (the helper bounds how often the callback runs).
                if reenteringCallback && checkpoint.branches > 0 { state.widen(against: checkpoint.state) }
                // A checkpoint that keeps missing states that are recorded is unlikely to prune
                // anything: forget it (as the kernel's miss_cnt > hit_cnt * n + n). One still being
                // explored (in a loop) goes after 3 misses: each iteration's checkpoint is compared
                // with the next few only, not with every earlier one; a loop whose state repeats is
                // still caught by the next checkpoint, and one that does not runs into the
                // instruction budget. A complete one goes after 64 (bounded_loop.c's 32-step loop
                // with a depth counter needs its states longer). Callback entries stay: their runs
                // converge there.
                if records && !reenteringCallback {
                    checkpoint.misses += 1
                    let allowed = checkpoint.branches > 0 ? 3 : 64
                    if checkpoint.misses > (checkpoint.hits + 1) * allowed { useless.append(index) }
                }
                continue
            }
            if checkpoint.branches == 0 {
                checkpoint.hits += 1
                if exact, let entry = checkpoint.loopEntry { dependOn(entry) }
                markPrecise(checkpoint.marks)
                return true
            }
            guard checkpoint.state.isSubsumed(by: state, live: live, precise: nil) else { continue }
            // The same state in a later run of a callback: the iterations converged (the helper
            // bounds how often it runs). In the same run it is a loop that cannot end.
            if state.isLaterIteration(than: checkpoint.state) {
                dependOn(checkpoint)
                return true
            }
            throw VerifierError(.infiniteLoop(at: pc), at: pc)
        }
        for index in useless.reversed() { visited[pc].remove(at: index).forgetState() }
        liveStates -= useless.count
        guard records, visited[pc].count < options.statesPerInstruction else { return false }
        checkpointCount += 1
        let checkpoint = Checkpoint(state: state, parent: owner, steps: steps, serial: checkpointCount)
        visited[pc].append(checkpoint)
        owner = checkpoint
        steps = []
        processedAtCheckpoint = processed
        jumpsAtCheckpoint = jumps
        totalStates += 1
        liveStates += 1
        peakStates = max(peakStates, liveStates)
        return false
    }

    /// The current path was cut short against `entry`, still being explored: until `entry` is
    /// complete, the marks of the checkpoints on this path may be missing some, so they are
    /// compared exactly (the kernel's loop entries).
    private func dependOn(_ entry: Checkpoint) {
        var current = owner
        while let checkpoint = current, checkpoint !== entry {
            if let known = checkpoint.loopEntry, known.branches > 0, known.serial <= entry.serial { return }
            checkpoint.loopEntry = entry
            current = checkpoint.parent
        }
    }

    /// Marks the numbers `mask` names in the current state precise, and where they came from,
    /// back along the path through every checkpoint whose state they flowed through.
    func markPrecise(_ initial: PrecisionMask) {
        var mask = initial
        if mask.isEmpty { return }
        for step in steps.reversed() {
            mask.backtrack(over: step, structure.operations[Int(step.pc)]!)
        }
        var current = owner
        while let checkpoint = current, !mask.isEmpty {
            checkpoint.absorb(&mask)
            if mask.isEmpty { return }
            for step in checkpoint.steps.reversed() {
                mask.backtrack(over: step, structure.operations[Int(step.pc)]!)
            }
            current = checkpoint.parent
        }
    }

    /// Marks register `register` of the current frame of `state` precise (when it holds a number).
    func markPrecise(_ register: Register, in state: AbstractState) {
        guard state[Int(register.rawValue)].isScalar else { return }
        var mask = PrecisionMask()
        mask.set(register, in: state.depth)
        markPrecise(mask)
    }

    /// Marks the numbers among an instruction's operands (`dst`, and `source` when it is a
    /// register) precise.
    func markOperandsPrecise(_ dst: Register, _ source: Operand, in state: AbstractState) {
        markPrecise(dst, in: state)
        if case .register(let src) = source { markPrecise(src, in: state) }
    }

    /// Which registers of each frame matter for the rest of the path from `state`.
    private func liveness(of state: AbstractState) -> [UInt16] {
        let top = state.frames.count - 1
        var live: [UInt16] = []
        for index in state.frames.indices {
            if index == top {
                live.append(structure.liveIn[state.pc] | 1 << 10)
                continue
            }
            let callee = state.frames[index + 1]
            let resume = callee.callSite + 1
            if callee.callback != nil || resume >= structure.liveIn.count {
                live.append(0x7ff)
                continue
            }
            // After the callee returns, r0-r5 are rewritten: only r6-r10 of the caller matter.
            live.append(structure.liveIn[resume] & 0x7c0)
        }
        return live
    }
}

/// A state recorded at a prune point, with the number of paths from it still being explored;
/// when that reaches 0 every continuation of the state has been proven safe. Its precision
/// marks say which of its numbers some decision after it depended on.
final class Checkpoint {
    private(set) var state: AbstractState
    var branches = 1
    private(set) var parent: Checkpoint?
    /// The instructions from the parent checkpoint to this one.
    let steps: [PathStep]
    /// The numbers of the state (registers and spilled slots, per frame) that must be compared.
    private(set) var marks: PrecisionMask
    /// A checkpoint still being explored against which a path below this one was cut short
    /// (once nothing holds it, it is complete).
    weak var loopEntry: Checkpoint?
    /// Creation order.
    let serial: Int
    /// Which registers hold numbers and which slots are no spilled pointers (per frame): what
    /// may be marked precise.
    private let numbers: PrecisionMask
    /// How often a state arriving here was pruned against this one, and how often not.
    var hits = 0
    var misses = 0

    init(state: AbstractState, parent: Checkpoint?, steps: [PathStep], serial: Int) {
        self.state = state
        self.parent = parent
        self.steps = steps
        self.serial = serial
        self.marks = PrecisionMask()
        var numbers = PrecisionMask()
        for (depth, frame) in state.frames.enumerated() {
            for register in 0..<11 where frame.registers[register].isScalar { numbers.registers[depth] |= 1 << UInt16(register) }
            for slot in 0..<Frame.slotCount where frame.stack[slot].spilled?.isScalar != false {
                numbers.slots[depth] |= 1 << UInt64(slot)
            }
        }
        self.numbers = numbers
    }

    /// Releases a long chain of parents one by one, not recursively (a loop makes chains of
    /// tens of thousands of checkpoints).
    deinit {
        var current = parent
        parent = nil
        while isKnownUniquelyReferenced(&current) {
            let next = current!.parent
            current!.parent = nil
            current = next
        }
    }

    /// Marks the numbers `mask` names precise here. What is already precise (its origins were
    /// marked then) or is no number leaves the mask; what is left must be traced further back.
    func absorb(_ mask: inout PrecisionMask) {
        for depth in mask.registers.indices {
            let registers = mask.registers[depth] & numbers.registers[depth] & ~marks.registers[depth]
            let slots = mask.slots[depth] & numbers.slots[depth] & ~marks.slots[depth]
            marks.registers[depth] |= registers
            marks.slots[depth] |= slots
            mask.registers[depth] = registers
            mask.slots[depth] = slots
        }
    }

    /// Drops the state of a checkpoint no longer compared with (its marks and steps still
    /// serve the paths below it): a loop leaves tens of thousands of them on its chain.
    func forgetState() {
        state = AbstractState(frames: [])
    }
}
