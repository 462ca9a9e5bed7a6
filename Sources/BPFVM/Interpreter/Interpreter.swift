/// Runs one program in the interpreter, with its helper ids resolved once up front.
///
/// Two modes share one loop. `run` is *checked*: before each instruction a `Sandbox` admits it
/// (registers read must hold values, every load and store must lie inside the one object its
/// pointer was derived from, helper arguments must match the helper's prototype), and an
/// instruction budget stops runaway loops; a trap is an `ExecutionError` naming the
/// instruction, never a crash. `runTrusted` performs none of these checks and is only for
/// programs a verifier has accepted. Everything a run changes lives in that run, so any number
/// of threads may run one interpreter at once.
public struct Interpreter: @unchecked Sendable {
    /// The size of each bpf-to-bpf call frame's stack, in bytes.
    public static let stackFrameSize = 512
    /// The most frames a run may have active at once (the entry function and `bpf_loop`
    /// callbacks count as one each).
    public static let maximumCallDepth = 8
    /// The default checked-mode instruction budget.
    public static let defaultInstructionBudget = 100_000_000

    /// The program this interpreter runs.
    public let program: Program
    /// How many instructions a checked run may execute before it traps (callbacks included).
    public var instructionBudget: Int = Interpreter.defaultInstructionBudget

    /// The program's code as the loop reads it (opcodes renumbered, code addresses absolute).
    let code: InterpreterCode
    private let helperFunctions: [HelperFunction?]
    private let helperPrototypes: [Helper?]
    private let tailCallHelperID: UInt64, loopHelperID: UInt64, unwindHelperID: UInt64
    /// The maps of the program's object, as its map and map-value constants index them.
    let maps: [MapLayout]
    /// Finds the code a tail call continues with (nil: tail calls fail).
    var tailCallResolver: TailCallResolver?

    /// Binds `program` to `helpers`: every helper it calls must exist, and no map or BTF `lddw`
    /// pseudo form may be left unresolved (a loader turns them into addresses first). Function
    /// addresses (`lddw` src 4, for callbacks) are resolved here.
    public init(program: Program, helpers: HelperTable) throws(LoadError) {
        try self.init(program: program, helpers: helpers, maps: [], constants: [:])
    }

    /// `init(program:helpers:)` for a program of a loaded object: `maps` are the object's maps
    /// and `constants` the provenance of each `lddw` that loads a map or a map value's address.
    init(program: Program, helpers: HelperTable, maps: [MapLayout], constants: [Int: Provenance]) throws(LoadError) {
        for (index, operation) in program.operations {
            switch operation {
            case .call(.helper(let id)):
                // A poisoned instruction is a call of a helper that does not exist, which traps if it runs.
                if helpers[id] == nil && program.metadata.poisonReason(at: index) == nil {
                    throw LoadError(index: index, reason: .unknownHelper(id))
                }
            case .call(.kfunc(let id)):
                throw LoadError(index: index, reason: .kfuncCall(id))
            case .loadImmediate64(let kind, _, _) where kind != .immediate && kind != .codeAddress:
                throw LoadError(index: index, reason: .unresolvedLoadImmediate(kind))
            default:
                break
            }
        }
        self.program = program
        self.code = InterpreterCode(program, constants: constants)
        self.maps = maps
        let dense = helpers.dense()
        self.helperFunctions = dense.map { $0?.function }
        self.helperPrototypes = dense
        self.tailCallHelperID = helpers.id(of: .tailCall)
        self.loopHelperID = helpers.id(of: .loop)
        self.unwindHelperID = helpers.unwindHelperID.map { UInt64($0) } ?? .max
    }

    /// Runs in checked mode with r1-r5 set from `arguments` (at most five); only the registers
    /// given count as initialised. The program may access its stack and `regions`: an argument
    /// that points into a region may reach that region, and so may a pointer-sized field of a
    /// region that holds an address inside one (a context's `data` field, a struct's pointer).
    public func run(arguments: [UInt64] = [], regions: [MemoryRegion] = [],
                    context: ExecutionContext? = nil) throws(ExecutionError) -> UInt64
    {
        try run(CheckedExecution.self, arguments: arguments, regions: regions, context: context).result
    }

    /// Runs in checked mode over `memory` the way bpf_conformance does: r1 points to the memory
    /// (0 when there is none), r2 holds its length, and the program may read and write it.
    public func run(memory: UnsafeMutableRawBufferPointer?, context: ExecutionContext? = nil) throws(ExecutionError)
        -> UInt64
    {
        try run(arguments: Self.memoryArguments(memory), regions: memory.map { [MemoryRegion($0)] } ?? [],
                context: context)
    }

    /// `run` that also reports how many instructions the run executed (for benchmarks and tests).
    package func runCounting(arguments: [UInt64] = [], regions: [MemoryRegion] = [],
                             context: ExecutionContext? = nil) throws(ExecutionError)
        -> (result: UInt64, executed: Int)
    {
        let (result, remaining) = try run(CheckedExecution.self, arguments: arguments, regions: regions,
                                          context: context)
        return (result, instructionBudget - remaining)
    }

    /// Runs without any per-instruction check. Only for programs a verifier has accepted: an
    /// unsafe program can corrupt or crash the host.
    package func runTrusted(arguments: [UInt64] = [], context: ExecutionContext? = nil) throws(ExecutionError)
        -> UInt64
    {
        try run(TrustedExecution.self, arguments: arguments, regions: [], context: context).result
    }

    /// `runTrusted` with r1 = the memory's address and r2 = its length.
    package func runTrusted(memory: UnsafeMutableRawBufferPointer?, context: ExecutionContext? = nil)
        throws(ExecutionError) -> UInt64
    {
        try runTrusted(arguments: Self.memoryArguments(memory), context: context)
    }

    /// r1 and r2 for a run over `memory`: its address and length (both 0 without memory).
    static func memoryArguments(_ memory: UnsafeMutableRawBufferPointer?) -> [UInt64] {
        guard let memory, let base = memory.baseAddress else { return [0, 0] }
        return [UInt64(UInt(bitPattern: base)), UInt64(memory.count)]
    }

    /// One run: the stack, registers, frames, run context and (checked mode) sandbox are all
    /// carved out of one allocation on this thread's stack (`RunLayout`), gone when it returns.
    private func run<C: ExecutionChecks>(_ mode: C.Type, arguments: [UInt64], regions: [MemoryRegion],
                                         context: ExecutionContext?) throws(ExecutionError)
        -> (result: UInt64, remaining: Int)
    {
        precondition(arguments.count <= 5, "a BPF program takes at most five arguments (r1-r5)")
        // Frames whose stack lies above this local are the host's (see `RunContext.stackBoundary`).
        var marker: UInt8 = 0
        let stackBoundary = withUnsafeMutablePointer(to: &marker) { UInt64(UInt(bitPattern: $0)) }
        let size = C.enabled ? RunLayout.checkedSize : RunLayout.trustedSize
        let outcome = withUnsafeTemporaryAllocation(byteCount: size, alignment: 16) { memory in
            helperFunctions.withUnsafeBufferPointer { helpers in
            helperPrototypes.withUnsafeBufferPointer { prototypes in
            maps.withUnsafeBufferPointer { maps in
            regions.withUnsafeBufferPointer { given in
                let base = memory.baseAddress!
                let stack = UnsafeMutableRawBufferPointer(start: base, count: RunLayout.stackSize)
                let regs = (base + RunLayout.registers).bindMemory(to: UInt64.self, capacity: 11)
                regs.initialize(repeating: 0, count: 11)
                for (index, value) in arguments.enumerated() { regs[index + 1] = value }
                regs[10] = UInt64(UInt(bitPattern: base) + UInt(RunLayout.stackSize))
                let frames = (base + RunLayout.frames).bindMemory(to: CallFrame.self, capacity: Self.maximumCallDepth)
                let targets = (base + RunLayout.targets)
                    .bindMemory(to: Unmanaged<InterpreterCode>?.self, capacity: maximumTailCalls)
                targets.initialize(repeating: nil, count: maximumTailCalls)
                defer { for index in 0..<maximumTailCalls { targets[index]?.release() } }
                let runContext = (base + RunLayout.runContext).bindMemory(to: RunContext.self, capacity: 1)
                runContext.initialize(to: RunContext(shared: context, stackBoundary: stackBoundary))
                var sandbox: UnsafeMutablePointer<Sandbox>?
                if C.enabled {
                    sandbox = (base + RunLayout.sandbox).bindMemory(to: Sandbox.self, capacity: 1)
                    sandbox!.initialize(to: Sandbox(scratch: base + RunLayout.scratch, stack: stack,
                                                    arguments: arguments, given: given, maps: maps,
                                                    helpers: prototypes, code: code))
                }
                let state = RunState(
                    code: code.start, entry: Unmanaged.passUnretained(code), helpers: helpers, tailCallHelperID: tailCallHelperID,
                    loopHelperID: loopHelperID, unwindHelperID: unwindHelperID, registers: regs,
                    frames: frames, budget: instructionBudget, context: UnsafeMutableRawPointer(runContext),
                    tailCall: tailCallResolver, tailCallTargets: targets)
                let outcome = execute(C.self, state, entry: code.start)
                sandbox?.pointee.end()
                return outcome
            }
            }
            }
            }
        }
        switch outcome {
        case let .returned(value, remaining): return (value, remaining)
        case .trapped(let error): throw error
        }
    }
}

/// Where one run's memory lies in the single temporary allocation `Interpreter.run` makes, in
/// bytes from its start: the stack (all frames), r0-r10, the call frames, the retained tail-call
/// targets, the run context, and for checked runs the sandbox and its scratch memory.
enum RunLayout {
    static let stackSize = Interpreter.stackFrameSize * Interpreter.maximumCallDepth
    static let registers = stackSize
    static let frames = alignUp(registers + 11 * MemoryLayout<UInt64>.stride, MemoryLayout<CallFrame>.alignment)
    static let targets = alignUp(frames + Interpreter.maximumCallDepth * MemoryLayout<CallFrame>.stride,
                                 MemoryLayout<Unmanaged<InterpreterCode>?>.alignment)
    static let runContext = alignUp(targets + maximumTailCalls * MemoryLayout<Unmanaged<InterpreterCode>?>.stride,
                                    MemoryLayout<RunContext>.alignment)
    static let trustedSize = runContext + MemoryLayout<RunContext>.stride
    static let sandbox = alignUp(trustedSize, MemoryLayout<Sandbox>.alignment)
    static let scratch = alignUp(sandbox + MemoryLayout<Sandbox>.stride, 16)
    static let checkedSize = scratch + Sandbox.scratchSize
}
