import BPFVM
import CJITSupport
import Verifier

/// A program compiled to x86-64 machine code, in executable memory that lives as long as this
/// object and every program compiled together with it: its entry, its code, and where each
/// BPF instruction's code starts. Only `JITCompiler` makes one, and only from a
/// `VerifiedProgram` (the conformance runner's package-level entry aside): running it performs
/// no check at all.
public final class CompiledProgram: @unchecked Sendable {
    /// The BPF program compiled (with its maps and functions resolved to addresses).
    public let program: Program
    /// The machine code of this program (what `bpfrun dump --jited` disassembles): its entry
    /// stub, then each BPF function.
    public var code: [UInt8] { Array(memory.bytes[entryOffset..<endOffset]) }
    /// The size of the machine code in bytes.
    public var codeSize: Int { endOffset - entryOffset }
    /// Where each instruction slot's code starts, in bytes from the start of `code` (nil for
    /// the second slot of an `lddw`).
    public let instructionOffsets: [Int?]
    /// Where each BPF function's code starts (the entry function first), from the start of
    /// `code`, with the instruction it starts at.
    public let functions: [(instruction: Int, offset: Int)]
    /// The bytes of `code` that are instructions: after them comes data (the helper table of
    /// `callx`), if any.
    public let instructionBytes: Int
    /// The address of the first byte of `code`.
    public var address: UInt { UInt(bitPattern: memory.base) + UInt(entryOffset) }

    typealias Entry = @convention(c) (UInt64, UInt64, UInt64, UInt64, UInt64, UnsafeMutableRawPointer) -> UInt64

    /// The memory holding this program's code (and that of programs compiled with it).
    let memory: ExecutableMemory
    private let entryOffset: Int
    private let endOffset: Int
    private let entry: Entry
    /// Where tail calls go (nil: they fail).
    let tailCalls: TailCallTable?
    /// The loaded program compiled (nil for a bare program).
    let loaded: LoadedProgram?
    /// Its object's context, which its helpers see (nil for a bare program).
    let executionContext: ExecutionContext?
    /// The environment the program was verified in (nil: not verified).
    let environment: VerificationEnvironment?
    /// Whether the code may unwind to its entry stub (which must then be how it is entered).
    let canUnwind: Bool

    init(program: Program, memory: ExecutableMemory, entryOffset: Int, endOffset: Int, dataOffset: Int,
         instructionOffsets: [Int?], functionOffsets: [(instruction: Int, offset: Int)], tailCalls: TailCallTable?, loaded: LoadedProgram?, executionContext: ExecutionContext?,
         environment: VerificationEnvironment?, canUnwind: Bool)
    {
        self.canUnwind = canUnwind
        self.executionContext = executionContext
        self.program = program
        self.memory = memory
        self.entryOffset = entryOffset
        self.endOffset = endOffset
        self.instructionOffsets = instructionOffsets.map { $0.map { $0 - entryOffset } }
        self.functions = functionOffsets.map { ($0.instruction, $0.offset - entryOffset) }
        self.instructionBytes = dataOffset - entryOffset
        self.tailCalls = tailCalls
        self.loaded = loaded
        self.environment = environment
        self.entry = unsafeBitCast(memory.base + entryOffset, to: Entry.self)
    }

    /// For the attach layer's trampolines, which call `address` with r1 in rdi and a run block of
    /// their own in r9: the block's initial contents (as 8-byte words, the stack boundary 0), the
    /// byte offset of the stack boundary in it, and whether the code reads it at all (it does
    /// only through helper calls and `callx`).
    package var runBlockTemplate: (words: [UInt64], stackBoundaryOffset: Int, isUsed: Bool) {
        let source = tailCalls.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) }
        let run = JITRun(context: executionContext, tailCallSource: source, stackBoundary: 0)
        let words = withUnsafeBytes(of: run) { bytes in
            (0..<MemoryLayout<JITRun>.size / 8).map { bytes.load(fromByteOffset: $0 * 8, as: UInt64.self) }
        }
        let used = program.operations.contains { _, operation in
            switch operation {
            case .call(.helper), .call(.register): true
            default: false
            }
        }
        return (words, MemoryLayout<JITRun>.offset(of: \JITRun.context)! + RunContext.stackBoundaryOffset, used)
    }

    /// Where a caller that keeps r12 pointing at a run block of its own (the attach layer's
    /// trampolines) may call the code: the entry function itself when the code never unwinds
    /// to its entry stub (no trap, no tail call, no unwind helper), else the entry stub (which
    /// takes the run block in r9).
    package var attachEntry: (address: UInt64, throughStub: Bool) {
        canUnwind ? (UInt64(address), true) : (entryFunctionAddress, false)
    }

    /// The address of the entry function (where a tail call enters the program).
    var entryFunctionAddress: UInt64 { UInt64(address) + UInt64(functions[0].offset) }

    /// Runs the program the way `VerifiedProgram.testRun` does, as compiled code: for a program
    /// of a loaded object, the context its kind gets (`LoadedProgram.testRun`); for a bare
    /// program, `input` as memory with r1 = its address and r2 = its length. Returns r0 and the
    /// input afterwards. The input must be what the program was verified for.
    public func testRun(input: [UInt8]) throws(TestRunError) -> (result: UInt64, output: [UInt8]) {
        try environment?.checkTestRunInput(input)
        if let loaded {
            return try loaded.testRun(input: input) { (arguments, _) throws(ExecutionError) in try run(arguments: arguments) }
        }
        var memory = input
        let result = memory.withUnsafeMutableBytes { buffer in
            Result { () throws(ExecutionError) -> UInt64 in try run(memory: buffer.count == 0 ? nil : buffer) }
        }
        switch result {
        case .success(let value): return (value, memory)
        case .failure(let error): throw .trapped(error)
        }
    }

    /// Runs a program verified for a memory context (a test-run kind other than xdp, or a bare
    /// program) over `context`, in place: r1 = its address, r2 = its length. The quickest way
    /// in (nothing is copied); the memory must be at least as large as the verified context.
    public func run(context memory: UnsafeMutableRawBufferPointer) throws(TestRunError) -> UInt64 {
        guard case .memory(let size, _)? = environment?.context, loaded.map({ $0.kind != .testRun(type: "xdp") }) ?? true else {
            throw .uncheckedContext("run(context:) is for programs verified for a memory context")
        }
        if memory.count < size { throw .contextTooSmall(given: memory.count, verified: size) }
        do {
            return try run(arguments: [UInt64(UInt(bitPattern: memory.baseAddress)), UInt64(memory.count)])
        } catch {
            throw .trapped(error)
        }
    }

    /// Runs the code with r1-r5 = `arguments` (at most five) and `context` for its helpers (the
    /// loaded object's when nil and there is one). A `callx` to an id with no helper traps, as
    /// in the interpreter.
    package func run(arguments: [UInt64], context: ExecutionContext? = nil) throws(ExecutionError) -> UInt64 {
        precondition(arguments.count <= 5, "a BPF program takes at most five arguments (r1-r5)")
        func argument(_ index: Int) -> UInt64 { index < arguments.count ? arguments[index] : 0 }
        let source = tailCalls.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) }
        // Frames whose stack lies above this local are the host's, as in the interpreter.
        var marker: UInt8 = 0
        let stackBoundary = withUnsafeMutablePointer(to: &marker) { UInt64(UInt(bitPattern: $0)) }
        var run = JITRun(context: context ?? executionContext, tailCallSource: source, stackBoundary: stackBoundary)
        let result = withExtendedLifetime(self) {
            withUnsafeMutablePointer(to: &run) { pointer in
                entry(argument(0), argument(1), argument(2), argument(3), argument(4), UnsafeMutableRawPointer(pointer))
            }
        }
        if run.trapped != 0 {
            let index = Int(run.trapIndex)
            if let poisoned = program.metadata.poisoned.first(where: { $0.instructionIndex == index }) {
                throw ExecutionError(index: index, reason: .poisonedInstruction(poisoned.reason))
            }
            throw ExecutionError(index: index, reason: .unknownHelper(run.trapValue))
        }
        return result
    }

    /// Runs over `memory` the way bpf_conformance does: r1 = its address (0 without memory),
    /// r2 = its length.
    package func run(memory: UnsafeMutableRawBufferPointer?, context: ExecutionContext? = nil) throws(ExecutionError)
        -> UInt64
    {
        guard let memory, let base = memory.baseAddress else { return try run(arguments: [0, 0], context: context) }
        return try run(arguments: [UInt64(UInt(bitPattern: base)), UInt64(memory.count)], context: context)
    }
}
