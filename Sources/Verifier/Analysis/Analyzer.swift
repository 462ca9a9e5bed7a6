import BPFVM

/// The abstract interpretation of one program: walks every path from the entry point the way
/// the kernel's `do_check` does, one instruction at a time over an `AbstractState`, forking at
/// branches whose outcome is not decided, and stops a path when its state at a prune point is
/// subsumed by one already proven safe there.
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
    /// Paths waiting to be explored, with the checkpoint that owns each.
    private var pending: [(state: AbstractState, owner: Checkpoint?, origin: Int?)] = []
    /// States recorded at each prune point.
    private var visited: [[Checkpoint]]

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
        pending.append((initial, nil, nil))
        while let (state, owner, origin) = pending.popLast() {
            try explore(state, owner: owner, origin: origin)
        }
    }

    /// Follows one path until it ends, forking the other edge of each undecided branch.
    private func explore(_ start: AbstractState, owner startOwner: Checkpoint?, origin: Int?) throws(VerifierError) {
        var state = start
        var owner = startOwner
        log.beginPath(state, from: origin)
        while true {
            if structure.prunePoints[state.pc] {
                if try isPruned(&state, owner: &owner) {
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
            var forks: [AbstractState] = []
            let continues = try step(operation, at: pc, &state, forks: &forks)
            if log.level >= 2 {
                log.after(operation, state: state,
                          written: ProgramStructure.registerEffects(operation, helpers: environment.helpers).writes)
            }
            for fork in forks {
                owner?.branches += 1
                pending.append((fork, owner, pc))
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
    private func isPruned(_ state: inout AbstractState, owner: inout Checkpoint?) throws(VerifierError) -> Bool {
        let pc = state.pc
        let live = liveness(of: state)
        let reenteringCallback = state.current.callback != nil && pc == state.current.function
        for checkpoint in visited[pc] {
            guard state.isSubsumed(by: checkpoint.state, live: live) else {
                // A callback entered again with other numbers: generalise them, so that the
                // iterations converge (the helper bounds how often the callback runs).
                if reenteringCallback && checkpoint.branches > 0 { state.widen(against: checkpoint.state) }
                continue
            }
            if checkpoint.branches == 0 { return true }
            guard checkpoint.state.isSubsumed(by: state, live: live) else { continue }
            // The same state in a later run of a callback: the iterations converged (the helper
            // bounds how often it runs). In the same run it is a loop that cannot end.
            if state.isLaterIteration(than: checkpoint.state) { return true }
            throw VerifierError(.infiniteLoop(at: pc), at: pc)
        }
        guard visited[pc].count < options.statesPerInstruction else { return false }
        let checkpoint = Checkpoint(state: state, parent: owner)
        visited[pc].append(checkpoint)
        owner = checkpoint
        totalStates += 1
        peakStates = max(peakStates, totalStates)
        return false
    }

    /// Which registers of each frame matter for the rest of the path from `state`, and which
    /// of their numbers (and of the spilled numbers) must be compared exactly.
    private func liveness(of state: AbstractState) -> StateMask {
        let top = state.frames.count - 1
        var mask = StateMask()
        for index in state.frames.indices {
            if index == top {
                mask.live.append(structure.liveIn[state.pc])
                mask.precise.append(structure.precision.registers[state.pc])
                mask.preciseSlots.append(structure.precision.slots[state.pc])
                continue
            }
            let callee = state.frames[index + 1]
            let resume = callee.callSite + 1
            if callee.callback != nil || resume >= structure.liveIn.count {
                mask.live.append(0x7ff); mask.precise.append(0x7ff); mask.preciseSlots.append(.max)
                continue
            }
            // After the callee returns, r0-r5 are rewritten: only r6-r10 of the caller matter.
            mask.live.append(structure.liveIn[resume] & 0x7c0)
            mask.precise.append(structure.precision.registers[resume] & 0x7c0)
            mask.preciseSlots.append(structure.precision.slots[resume])
        }
        mask.live[top] |= 1 << 10
        return mask
    }
}

/// A state recorded at a prune point, with the number of paths from it still being explored;
/// when that reaches 0 every continuation of the state has been proven safe.
final class Checkpoint {
    let state: AbstractState
    var branches = 1
    let parent: Checkpoint?

    init(state: AbstractState, parent: Checkpoint?) {
        self.state = state
        self.parent = parent
    }
}
