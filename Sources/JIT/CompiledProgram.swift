import BPFVM
import CJITSupport

/// A program compiled to x86-64 machine code, in executable memory that lives as long as this
/// object (and every object sharing it): its entry, its code, and where each BPF instruction's
/// code starts. Only `JITCompiler` makes one, and only from a `VerifiedProgram` (the
/// conformance runner's package-level entry aside): running it performs no check at all.
public final class CompiledProgram: @unchecked Sendable {
    /// The BPF program compiled (with its maps and functions resolved to addresses).
    public let program: Program
    /// The machine code's bytes (what `bpfrun dump --jited` disassembles).
    public var code: [UInt8] { memory.bytes }
    /// The size of the machine code in bytes.
    public var codeSize: Int { memory.codeSize }
    /// The offset in `code` where each instruction slot's code starts (nil for the second slot
    /// of an `lddw`).
    public let instructionOffsets: [Int?]
    /// The offset of each BPF function's code (the entry function first), and of the entry stub (0).
    public let functionOffsets: [Int]
    /// The address the code runs at.
    public var address: UInt { UInt(bitPattern: memory.base) }

    typealias Entry = @convention(c) (UInt64, UInt64, UInt64, UInt64, UInt64, UnsafeMutableRawPointer) -> UInt64

    let memory: ExecutableMemory
    private let entry: Entry
    /// Where tail calls go (nil: they fail).
    let tailCalls: TailCallTable?

    init(program: Program, memory: ExecutableMemory, instructionOffsets: [Int?], functionOffsets: [Int],
         tailCalls: TailCallTable?)
    {
        self.program = program
        self.memory = memory
        self.instructionOffsets = instructionOffsets
        self.functionOffsets = functionOffsets
        self.tailCalls = tailCalls
        self.entry = unsafeBitCast(memory.base, to: Entry.self)
    }

    /// The address of the entry function (what a tail call jumps to).
    var entryFunctionAddress: UInt64 { UInt64(address) + UInt64(functionOffsets[0]) }

    /// Runs the code with r1-r5 = `arguments` (at most five) and the object's `context` for
    /// its helpers. A `callx` to an id with no helper traps, as in the interpreter.
    package func run(arguments: [UInt64], context: ExecutionContext?) throws(ExecutionError) -> UInt64 {
        precondition(arguments.count <= 5, "a BPF program takes at most five arguments (r1-r5)")
        func argument(_ index: Int) -> UInt64 { index < arguments.count ? arguments[index] : 0 }
        var run = JITRun(context: context, tailCallSource: tailCalls.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
        let result = withExtendedLifetime(self) {
            withUnsafeMutablePointer(to: &run) { pointer in
                entry(argument(0), argument(1), argument(2), argument(3), argument(4), UnsafeMutableRawPointer(pointer))
            }
        }
        if run.trapped != 0 {
            throw ExecutionError(index: Int(run.trapIndex), reason: .unknownHelper(run.trapValue))
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
