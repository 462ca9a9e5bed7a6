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

    /// The program's slots with each opcode byte replaced by its `InterpreterOpcode`.
    private let code: [Instruction]
    private let helperFunctions: [HelperFunction?]
    private let unwindHelperID: UInt64

    /// Binds `program` to `helpers`: every helper it calls must exist, and no `lddw` pseudo form
    /// may be left unresolved.
    public init(program: Program, helpers: HelperTable) throws(LoadError) {
        for (index, operation) in program.operations {
            switch operation {
            case .call(.helper(let id)):
                if helpers[id] == nil { throw LoadError(index: index, reason: .unknownHelper(id)) }
            case .call(.kfunc(let id)):
                throw LoadError(index: index, reason: .kfuncCall(id))
            case .loadImmediate64(let kind, _, _) where kind != .immediate:
                throw LoadError(index: index, reason: .unresolvedLoadImmediate(kind))
            default:
                break
            }
        }
        self.program = program
        var code = program.instructions
        for (index, _) in program.operations {
            // `Program` admits only valid opcodes, and every valid opcode has an internal one.
            code[index].opcode = InterpreterOpcode(opcode: code[index].opcode)!.rawValue
        }
        self.code = code
        self.helperFunctions = helpers.resolved()
        self.unwindHelperID = helpers.unwindHelperID.map { UInt64($0) } ?? .max
    }

    /// Runs in checked mode with r1-r5 set from `arguments` (at most five); only the registers
    /// given count as initialised. The program may access its stack and `regions`.
    public func run(arguments: [UInt64] = [], regions: [MemoryRegion] = [],
                    context: UnsafeMutableRawPointer? = nil) throws(ExecutionError) -> UInt64
    {
        try run(CheckedExecution.self, arguments: arguments, regions: regions, context: context).result
    }

    /// `run` that also reports how many instructions the run executed (for benchmarks and tests).
    package func runCounting(arguments: [UInt64] = [], regions: [MemoryRegion] = [],
                             context: UnsafeMutableRawPointer? = nil) throws(ExecutionError)
        -> (result: UInt64, executed: Int)
    {
        let (result, remaining) = try run(CheckedExecution.self, arguments: arguments, regions: regions,
                                          context: context)
        return (result, instructionBudget - remaining)
    }

    /// Runs in checked mode over `memory` the way bpf_conformance does: r1 points to the memory
    /// (0 when there is none), r2 holds its length, and the program may read and write it.
    public func run(memory: UnsafeMutableRawBufferPointer?,
                    context: UnsafeMutableRawPointer? = nil) throws(ExecutionError) -> UInt64
    {
        try run(arguments: Self.memoryArguments(memory), regions: memory.map { [MemoryRegion($0)] } ?? [],
                context: context)
    }

    /// Runs without any per-instruction check. Only for programs a verifier has accepted: an
    /// unsafe program can corrupt or crash the host.
    package func runTrusted(arguments: [UInt64] = [],
                            context: UnsafeMutableRawPointer? = nil) throws(ExecutionError) -> UInt64
    {
        try run(TrustedExecution.self, arguments: arguments, regions: [], context: context).result
    }

    /// `runTrusted` with r1 = the memory's address and r2 = its length.
    package func runTrusted(memory: UnsafeMutableRawBufferPointer?,
                            context: UnsafeMutableRawPointer? = nil) throws(ExecutionError) -> UInt64
    {
        try runTrusted(arguments: Self.memoryArguments(memory), context: context)
    }

    private static func memoryArguments(_ memory: UnsafeMutableRawBufferPointer?) -> [UInt64] {
        guard let memory, let base = memory.baseAddress else { return [0, 0] }
        return [UInt64(UInt(bitPattern: base)), UInt64(memory.count)]
    }

    private func run<C: ExecutionChecks>(_ mode: C.Type, arguments: [UInt64], regions: [MemoryRegion],
                                         context: UnsafeMutableRawPointer?) throws(ExecutionError)
        -> (result: UInt64, remaining: Int)
    {
        precondition(arguments.count <= 5, "a BPF program takes at most five arguments (r1-r5)")
        let stackSize = Self.stackFrameSize * Self.maximumCallDepth
        let outcome = withUnsafeTemporaryAllocation(byteCount: stackSize, alignment: 16) { stack in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 11) { registers in
                withUnsafeTemporaryAllocation(of: CallFrame.self, capacity: Self.maximumCallDepth) { frames in
                    self.code.withUnsafeBufferPointer { code in
                        helperFunctions.withUnsafeBufferPointer { helpers in
                            regions.withUnsafeBufferPointer { regions in
                                let stackTop = UInt(bitPattern: stack.baseAddress) + UInt(stackSize)
                                let regs = registers.baseAddress!
                                regs.initialize(repeating: 0, count: 11)
                                var initialized: UInt16 = 1 << 10
                                for (index, value) in arguments.enumerated() {
                                    regs[index + 1] = value
                                    initialized |= 1 << (index + 1)
                                }
                                regs[10] = UInt64(stackTop)
                                let state = RunState(
                                    code: code.baseAddress!, helpers: helpers, unwindHelperID: unwindHelperID,
                                    registers: regs, frames: frames.baseAddress!,
                                    bounds: AccessBounds(stackLow: stackTop - UInt(Self.stackFrameSize),
                                                         stackHigh: stackTop, regions: regions),
                                    initialized: initialized, budget: instructionBudget, context: context)
                                return execute(C.self, state)
                            }
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
