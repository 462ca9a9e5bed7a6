import BPFVM
import JIT
import Verifier

/// A program attached to a hook: how the trampoline calls it (compiled code, or the
/// interpreter's C-ABI entry with the program as a fixed argument), its kind, and its run
/// statistics (counted only while statistics are on). Lives as long as a link or a trampoline
/// that calls it.
final class AttachedProgram: @unchecked Sendable {
    enum Code {
        case compiled(CompiledProgram)
        case interpreted(InterpretedProgram)
    }

    let name: String
    let kind: AttachKind
    let code: Code
    /// The loaded program it was made from (one attachment per hook).
    let loaded: LoadedProgram
    /// The program's object, kept alive while the program may run (its maps, its context).
    let object: LoadedObject
    /// Runs and TSC cycles spent, updated by trampolines built with statistics on.
    let statistics: UnsafeMutablePointer<UInt64>

    init(kind: AttachKind, code: Code, loaded: LoadedProgram) {
        self.loaded = loaded
        self.object = loaded.loadedObject
        self.name = loaded.name
        self.kind = kind
        self.code = code
        statistics = .allocate(capacity: 2)
        statistics.initialize(repeating: 0, count: 2)
    }

    deinit { statistics.deallocate() }

    /// Runs counted (aligned 8-byte loads of counters only `lock xadd` writes).
    var runs: UInt64 { statistics.pointee }
    /// TSC cycles spent in the program over those runs.
    var cycles: UInt64 { statistics[1] }

    var engine: HookTable.Engine {
        if case .compiled = code { return .jit }
        return .interpreter
    }

    /// Addresses the trampoline calls for this program (its code must reach them with rel32).
    var callTargets: [UInt64] {
        switch code {
        case .compiled(let program): [program.attachEntry.address]
        case .interpreted: [InterpretedProgram.entryAddress]
        }
    }
}

