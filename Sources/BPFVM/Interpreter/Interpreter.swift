/// Runs one program in the interpreter, with its helper ids resolved once up front.
///
/// Two modes share one loop. `run` is *checked*: every load and store must fall inside the
/// active stack frames or a region the caller lists, reading a register before it is written
/// traps, and an instruction budget stops runaway loops; a trap is an `ExecutionError` naming
/// the instruction, never a crash. `runTrusted` performs none of these checks and is only for
/// programs a verifier has accepted.
public struct Interpreter: @unchecked Sendable {
    /// The size of each bpf-to-bpf call frame's stack, in bytes.
    public static let stackFrameSize = 512
    /// The most frames a run may have active at once (the entry function counts as one).
    public static let maximumCallDepth = 8
    /// The default checked-mode instruction budget.
    public static let defaultInstructionBudget = 100_000_000

    /// The program this interpreter runs.
    public let program: Program
    /// How many instructions a checked run may execute before it traps.
    public var instructionBudget: Int = Interpreter.defaultInstructionBudget

    /// The program's code as the loop reads it (opcodes renumbered, code addresses absolute).
    let code: InterpreterCode
    private let helperFunctions: [HelperFunction?]
    private let helperPrototypes: [Helper?]
    /// The key and value sizes of the map a pointer names, or nil when it names none; set by
    /// a loader so that checked runs can check map arguments (without it, they must name no map).
    var mapSizes: ((UInt64) -> (key: Int, value: Int)?)?
    private let unwindHelperID: UInt64
    /// Finds the code a tail call continues with (nil: tail calls fail).
    var tailCallResolver: TailCallResolver?

    /// Binds `program` to `helpers`: every helper it calls must exist, and no map or BTF `lddw`
    /// pseudo form may be left unresolved (a loader turns them into addresses first). Function
    /// addresses (`lddw` src 4, for callbacks) are resolved here.
    public init(program: Program, helpers: HelperTable) throws(LoadError) {
        for (index, operation) in program.operations {
            switch operation {
            case .call(.helper(let id)):
                if helpers[id] == nil { throw LoadError(index: index, reason: .unknownHelper(id)) }
            case .call(.kfunc(let id)):
                throw LoadError(index: index, reason: .kfuncCall(id))
            case .loadImmediate64(let kind, _, _) where kind != .immediate && kind != .codeAddress:
                throw LoadError(index: index, reason: .unresolvedLoadImmediate(kind))
            default:
                break
            }
        }
        self.program = program
        self.code = InterpreterCode(program)
        self.helperFunctions = helpers.resolved()
        self.helperPrototypes = HelperArgumentCheck.prototypes(of: helpers)
        self.unwindHelperID = helpers.unwindHelperID.map { UInt64($0) } ?? .max
    }

    /// Runs in checked mode with r1-r5 set from `arguments` (at most five); only the registers
    /// given count as initialised. The program may access its stack and `regions`.
    public func run(arguments: [UInt64] = [], regions: [MemoryRegion] = [],
                    context: ExecutionContext? = nil) throws(ExecutionError) -> UInt64
    {
        try run(CheckedExecution.self, at: code.start, arguments: arguments, regions: regions, context: context).result
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
        let (result, remaining) = try run(CheckedExecution.self, at: code.start, arguments: arguments,
                                          regions: regions, context: context)
        return (result, instructionBudget - remaining)
    }

    /// Runs without any per-instruction check. Only for programs a verifier has accepted: an
    /// unsafe program can corrupt or crash the host.
    package func runTrusted(arguments: [UInt64] = [], context: ExecutionContext? = nil) throws(ExecutionError)
        -> UInt64
    {
        try run(TrustedExecution.self, at: code.start, arguments: arguments, regions: [], context: context).result
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

    private func run<C: ExecutionChecks>(_ mode: C.Type, at entry: UnsafePointer<Instruction>, arguments: [UInt64],
                                         regions: [MemoryRegion], context: ExecutionContext?) throws(ExecutionError)
        -> (result: UInt64, remaining: Int)
    {
        precondition(arguments.count <= 5, "a BPF program takes at most five arguments (r1-r5)")
        let stackSize = Self.stackFrameSize * Self.maximumCallDepth
        let outcome = withUnsafeTemporaryAllocation(byteCount: stackSize, alignment: 16) { stack in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 11) { registers in
                withUnsafeTemporaryAllocation(of: CallFrame.self, capacity: Self.maximumCallDepth) { frames in
                    helperFunctions.withUnsafeBufferPointer { helpers in
                        regions.withUnsafeBufferPointer { regionBuffer in
                            let stackTop = UInt(bitPattern: stack.baseAddress) + UInt(stackSize)
                            // While this run lasts, `bpf_loop` and friends call back into it through the
                            // context; a callback may use this run's stack (its context often lives there).
                            let previousCallback = context?.callFunction
                            defer { context?.callFunction = previousCallback }
                            if let context {
                                let callbackRegions = regions + [MemoryRegion(UnsafeMutableRawBufferPointer(stack))]
                                context.callFunction = { address, arguments in
                                    guard let target = code.instruction(at: address) else { return nil }
                                    return try? run(C.self, at: target, arguments: arguments, regions: callbackRegions,
                                                    context: context).result
                                }
                            }
                            let regs = registers.baseAddress!
                            regs.initialize(repeating: 0, count: 11)
                            var initialized: UInt16 = 1 << 10
                            for (index, value) in arguments.enumerated() {
                                regs[index + 1] = value
                                initialized |= 1 << (index + 1)
                            }
                            regs[10] = UInt64(stackTop)
                            let state = RunState(
                                code: code.start, entry: entry, helpers: helpers, unwindHelperID: unwindHelperID,
                                registers: regs, frames: frames.baseAddress!,
                                bounds: AccessBounds(stackLow: stackTop - UInt(Self.stackFrameSize),
                                                     stackHigh: stackTop, regions: regionBuffer),
                                initialized: initialized, budget: instructionBudget,
                                context: context?.opaquePointer, tailCall: tailCallResolver,
                                argumentCheck: C.enabled
                                    ? HelperArgumentCheck(helpers: helperPrototypes, mapSizes: mapSizes) : nil)
                            return execute(C.self, state)
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
