import BPFVM

/// The verifier: proves a program safe to run without checks, the way the kernel's verifier
/// does (abstract interpretation of every path, with pruning), or says why not.
///
/// A program it accepts reads only initialised registers, touches only memory inside the one
/// object each pointer was derived from (its stack frame, its context, one map value, one
/// ring-buffer record it holds, the packet within proven bounds, host structures read-only),
/// passes helpers arguments of the types their prototypes name, releases every reference it
/// takes, leaks no pointer, returns a value in its kind's range, and ends.
public struct Verifier: Sendable {
    public var options: VerifierOptions

    public init(options: VerifierOptions = VerifierOptions()) {
        self.options = options
    }

    /// Verifies `program` against `environment`: the `VerifiedProgram` on success, else the
    /// first unsafe instruction as a `VerifierError` (with the log up to it).
    public func verify(_ program: Program, in environment: VerificationEnvironment) throws(VerifierError)
        -> VerifiedProgram
    {
        let clock = ContinuousClock()
        let start = clock.now
        var analyzer: Analyzer? = nil
        do {
            let structure = try ProgramStructure(program, environment: environment)
            let run = Analyzer(program: program, structure: structure, environment: environment, options: options)
            analyzer = run
            run.log.maps = run.maps.definitions
            if case .hookArguments(let hook) = environment.context {
                run.log.hostTypeName = { hook.btf.type($0)?.name ?? "" }
            }
            try run.run()
            let depths = try checkStackDepth(run, structure: structure)
            let elapsed = start.duration(to: clock.now)
            let statistics = VerificationStatistics(
                processedInstructions: run.processed, totalStates: run.totalStates, peakStates: run.peakStates,
                maximumStatesPerInstruction: options.statesPerInstruction, stackDepths: depths,
                microseconds: Int(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000))
            var log = run.log.text
            if run.log.isEnabled { log += statistics.summary }
            return VerifiedProgram(program: program, environment: environment, statistics: statistics, log: log,
                                   hostLoads: run.hostLoads)
        } catch {
            var error = error
            if let index = error.instruction { error.sourceLine = Self.sourceLine(of: index, in: program) }
            var log = analyzer?.log.text ?? ""
            if options.logLevel > 0 {
                log += error.message + "\n"
                if let analyzer {
                    log += "processed \(analyzer.processed) insns (limit \(options.instructionLimit)) max_states_per_insn \(options.statesPerInstruction) total_states \(analyzer.totalStates) peak_states \(analyzer.peakStates) mark_read 0\n"
                }
            }
            error.log = log
            throw error
        }
    }

    /// The stack each function uses, checked along every chain of calls (512 bytes at most).
    private func checkStackDepth(_ analyzer: Analyzer, structure: ProgramStructure) throws(VerifierError) -> [Int] {
        let depths = analyzer.stackDepth.map { ($0 + 7) / 8 * 8 }
        // Calls (and callbacks) each function makes.
        var callees = [Set<Int>](repeating: [], count: depths.count)
        for (index, operation) in analyzer.program.operations {
            let caller = structure.functionOfSlot[index]
            let target: Int? = switch operation {
            case .call(.local(let offset)): index + 1 + Int(offset)
            case .loadImmediate64(.codeAddress, _, let value): index + 1 + Int(Int32(truncatingIfNeeded: value))
            default: nil
            }
            if let target { callees[caller].insert(structure.functionOfSlot[target]) }
        }
        // The deepest chain from each function: its stack total and how many frames it has.
        var deepest = [(total: Int, frames: Int)?](repeating: nil, count: depths.count)
        func chain(_ function: Int, _ visiting: inout [Int]) throws(VerifierError) -> (total: Int, frames: Int) {
            if let known = deepest[function] { return known }
            // A call back into a function of the chain is recursion: the chain has no bound.
            if visiting.contains(function) || visiting.count >= Interpreter.maximumCallDepth {
                throw VerifierError(.callStackTooDeep(frames: Interpreter.maximumCallDepth + 1), at: nil)
            }
            visiting.append(function)
            var below = (total: 0, frames: 0)
            for callee in callees[function] {
                let result = try chain(callee, &visiting)
                if result.total > below.total || (result.total == below.total && result.frames > below.frames) {
                    below = result
                }
            }
            visiting.removeLast()
            let result = (total: depths[function] + below.total, frames: below.frames + 1)
            deepest[function] = result
            return result
        }
        var visiting: [Int] = []
        let (total, frames) = try chain(0, &visiting)
        if total > Interpreter.stackFrameSize {
            throw VerifierError(.stackTooLarge(calls: frames, depth: total), at: nil)
        }
        return depths
    }

    /// What the u64 slot `slot` of a hook's context holds: its parameter's integer type widened
    /// (signed ones sign-extended); for an LSM program, the return value so far, which the
    /// checks before it left at 0 (allow) or a negative errno.
    static func slotRange(_ hook: HookPrototype, slot: Int, kind: ProgramKind) -> Scalar {
        if slot == hook.parameters.count && kind.isLSM {
            var range = Scalar.unknown
            range.b64 = .signed(-4095, 0)
            range.synchronize()
            return range
        }
        return hook.slotScalar(slot)
    }

    /// `file:line: source` of the line record covering `index`.
    static func sourceLine(of index: Int, in program: Program) -> String? {
        guard let line = program.metadata.lines.last(where: { $0.instructionIndex <= index }) else { return nil }
        let base = line.fileName.split(separator: "/").last.map(String.init) ?? line.fileName
        return "\(base):\(line.lineNumber): " + line.source.trimmingLeadingWhitespace
    }
}

extension String {
    var trimmingLeadingWhitespace: String { String(drop { $0 == " " || $0 == "\t" }) }
}

/// The verifier's limits and log level.
public struct VerifierOptions: Sendable {
    /// 0: no log; 1: the path to a rejection; 2: every instruction with register states.
    public var logLevel: Int
    /// Instructions processed over all paths before the program is "too large" (E2BIG).
    public var instructionLimit: Int
    /// States kept per instruction for pruning.
    public var statesPerInstruction: Int
    /// Paths waiting to be explored before the program is "too complex".
    public var pendingLimit: Int

    public init(logLevel: Int = 0, instructionLimit: Int = 1_000_000, statesPerInstruction: Int = 1024,
                pendingLimit: Int = 8192)
    {
        self.logLevel = logLevel
        self.instructionLimit = instructionLimit
        self.statesPerInstruction = statesPerInstruction
        self.pendingLimit = pendingLimit
    }
}

/// What verifying a program took.
public struct VerificationStatistics: Sendable, Hashable {
    /// Instructions processed over all paths (the kernel's measure, limit 1,000,000).
    public let processedInstructions: Int
    public let totalStates: Int
    public let peakStates: Int
    public let maximumStatesPerInstruction: Int
    /// The stack bytes each function uses (rounded up to 8).
    public let stackDepths: [Int]
    /// How long verification took.
    public let microseconds: Int

    /// The kernel's closing lines: `verification time`, `stack depth`, `processed N insns ...`.
    public var summary: String {
        "verification time \(microseconds) usec\n"
            + "stack depth \(stackDepths.map(String.init).joined(separator: "+"))\n"
            + "processed \(processedInstructions) insns (limit 1000000) max_states_per_insn \(maximumStatesPerInstruction) total_states \(totalStates) peak_states \(peakStates) mark_read 0\n"
    }
}
