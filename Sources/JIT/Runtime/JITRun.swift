import BPFVM

/// The memory of one run of compiled code, on the calling thread's stack, which the code reaches
/// through r12 for the whole run: the `RunContext` every helper receives (first, so that r12 is
/// the helpers' context pointer as it is), where to unwind to, the tail-call count, a trap's
/// details, and the program's tail-call targets.
struct JITRun {
    var context: RunContext
    /// rsp of the entry stub, for unwinding out of any depth (a trap, the unwind helper).
    var savedStack: UInt64 = 0
    /// Tail calls made so far (at most `maximumTailCalls`).
    var tailCalls: UInt64 = 0
    /// Non-zero once the run trapped: the instruction, and the helper id `callx` named.
    var trapped: UInt64 = 0
    var trapIndex: UInt64 = 0
    var trapValue: UInt64 = 0
    /// The program the run started in, which resolves tail calls (unretained; nil: none).
    var tailCallSource: UnsafeRawPointer? = nil
    /// r1 (the context) kept across the call that resolves a tail call.
    var savedContextArgument: UInt64 = 0

    /// `stackBoundary`: an address in the frame that starts the run (see `RunContext.stackBoundary`).
    init(context: ExecutionContext?, tailCallSource: UnsafeRawPointer?, stackBoundary: UInt64) {
        self.context = RunContext(shared: context, stackBoundary: stackBoundary)
        self.tailCallSource = tailCallSource
    }

    /// The byte offset of a field, for code that addresses it from r12.
    static func offset(_ field: PartialKeyPath<JITRun>) -> Int32 { Int32(MemoryLayout<JITRun>.offset(of: field)!) }

    static let savedStackOffset = offset(\.savedStack)
    static let tailCallsOffset = offset(\.tailCalls)
    static let trappedOffset = offset(\.trapped)
    static let trapIndexOffset = offset(\.trapIndex)
    static let trapValueOffset = offset(\.trapValue)
    static let tailCallSourceOffset = offset(\.tailCallSource)
    static let savedContextArgumentOffset = offset(\.savedContextArgument)
}
