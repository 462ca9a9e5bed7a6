/// The handle that keeps one program attached to one hook: closing it (or dropping the last
/// reference to it) detaches the program. Closing twice is harmless.
public final class Link: @unchecked Sendable {
    public let hook: String
    public let program: String
    public let kind: AttachKind
    public let engine: HookTable.Engine
    private let table: HookTable
    private let hookState: Hook
    private let attached: AttachedProgram

    init(table: HookTable, hook: Hook, program: AttachedProgram, engine: HookTable.Engine) {
        self.table = table
        self.hookState = hook
        self.attached = program
        self.hook = hook.descriptor.name
        self.program = program.name
        self.kind = program.kind
        self.engine = engine
    }

    /// Detaches the program: the hook gets a trampoline without it.
    public func close() throws(AttachError) {
        try table.detach(attached, from: hookState)
    }

    deinit { try? close() }

    /// Runs counted while statistics were on.
    public var runs: UInt64 { attached.runs }
    /// TSC cycles spent in the program over those runs.
    public var cycles: UInt64 { attached.cycles }
    /// Interpreted runs that ended in an error (they returned 0).
    public var failedRuns: UInt64 {
        if case .interpreted(let interpreted) = attached.code { return interpreted.failures }
        return 0
    }
}
