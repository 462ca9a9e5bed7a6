#if canImport(Glibc)
import Glibc
#endif
import BPFVM
import CAttach
import JIT
import Verifier

/// The hooks of this process: every hook it declares (`BPFRUN_HOOK`, `BPFRUN_STATIC_CALL_HOOK`)
/// described by the host's BTF, and the programs attached to them. There is one per process
/// (`HookTable.process(hostBTF:)`), since the hooks and their patch sites are the process's.
///
/// Guarantees: attaching and detaching are serialised under one lock, and any number of threads
/// may call the hooks meanwhile; every call runs exactly the programs attached at one instant;
/// a replaced trampoline is freed only once no thread can be in it or return into it.
public final class HookTable: @unchecked Sendable {
    /// The host's BTF, which types the programs' contexts.
    public let hostBTF: BTF
    private let hooks: [Hook]
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var statistics = false

    private nonisolated(unsafe) static var shared: HookTable?
    private nonisolated(unsafe) static let sharedLock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        return lock
    }()

    /// The process's hook table, described by `hostBTF` the first time (later calls must give the
    /// same BTF).
    public static func process(hostBTF: BTF) throws(AttachError) -> HookTable {
        pthread_mutex_lock(sharedLock)
        defer { pthread_mutex_unlock(sharedLock) }
        if let shared {
            guard shared.hostBTF.bytes == hostBTF.bytes else { throw .hostBTFMismatch }
            return shared
        }
        let table = try HookTable(hostBTF: hostBTF)
        shared = table
        return table
    }

    private init(hostBTF: BTF) throws(AttachError) {
        self.hostBTF = hostBTF
        var count = 0
        let records = bpfrun_hook_records(&count)
        guard count <= maximumHooks else { throw .tooManyHooks(count) }
        var hooks: [Hook] = []
        for index in 0..<count {
            let record = records![index]
            let name = String(cString: record.name)
            var kinds: Set<AttachKind> = []
            let bits: [(UInt32, AttachKind)] = [(UInt32(BPFRUN_KIND_FENTRY), .fentry), (UInt32(BPFRUN_KIND_FEXIT), .fexit),
                                                (UInt32(BPFRUN_KIND_FMOD_RET), .fmodReturn), (UInt32(BPFRUN_KIND_LSM), .lsm)]
            for (bit, kind) in bits where record.kinds & bit != 0 { kinds.insert(kind) }
            let descriptor = try HookDescriptor(
                name: name, btf: hostBTF, allowedKinds: kinds,
                overrideRange: record.overridable != 0 ? record.override_min...record.override_max : nil)
            let address = UInt64(UInt(bitPattern: record.site))
            let shape: HookSite.Shape = record.site_kind == UInt32(BPFRUN_SITE_STATIC_CALL) ? .staticCall : .entryNOP
            let site = Result { () throws(AttachError) in try HookSite(hook: name, shape: shape, address: address) }
            hooks.append(Hook(index: index, descriptor: descriptor, site: site))
        }
        self.hooks = hooks.sorted { $0.descriptor.name < $1.descriptor.name }
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    /// Every hook's descriptor, by name.
    public var descriptors: [HookDescriptor] { hooks.map(\.descriptor) }

    /// The hook named `name`.
    public func descriptor(named name: String) -> HookDescriptor? { hook(named: name)?.descriptor }

    private func hook(named name: String) -> Hook? { hooks.first { $0.descriptor.name == name } }

    private func locked<T>(_ body: () throws(AttachError) -> T) throws(AttachError) -> T {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body()
    }

    // MARK: Attaching

    /// How an attached program runs.
    public enum Engine: Sendable, CustomStringConvertible {
        /// Compiled to machine code by the JIT.
        case jit
        /// Run by the interpreter (trusted mode: the program is verified).
        case interpreter

        public var description: String { self == .jit ? "jit" : "interpreter" }
    }

    /// Attaches a program of a loaded object to the hook its section names: checks that the hook
    /// exists and allows the program's kind (and an override, for `fmod_ret`), verifies it
    /// against the hook (its context typed by the host BTF; `lsm` and `fmod_ret` returns inside
    /// the hook's override range), compiles it (for the JIT), and swaps in a new trampoline.
    /// The program stays attached as long as the link is open.
    public func attach(_ loaded: LoadedProgram, engine: Engine = .jit) throws(AttachError) -> Link {
        guard let kind = AttachKind(loaded.kind), let hookName = loaded.kind.hook else {
            throw .notAHookProgram(program: loaded.name, kind: "\(loaded.kind)")
        }
        guard let hook = hook(named: hookName) else { throw .unknownHook(program: loaded.name, hook: hookName) }
        let descriptor = hook.descriptor
        let site = try hook.site.get()
        if kind == .fmodReturn && descriptor.overrideRange == nil {
            throw .overrideNotAllowed(program: loaded.name, hook: hookName)
        }
        guard descriptor.allowedKinds.contains(kind) else {
            throw .kindNotAllowed(program: loaded.name, kind: kind, hook: hookName)
        }
        let verified: VerifiedProgram
        do {
            verified = try loaded.verify(hostBTF: hostBTF, overrideRange: descriptor.overrideRange)
        } catch {
            throw .verification(program: loaded.name, hook: hookName, error)
        }
        let code: AttachedProgram.Code
        switch engine {
        case .jit:
            do {
                var compiler = JITCompiler()
                compiler.nearAddresses = [site.original, InterpretedProgram.entryAddress]
                code = .compiled(try compiler.compile(verified, loaded: loaded))
            } catch {
                throw .compilation(program: loaded.name, error)
            }
        case .interpreter:
            guard verified.hostLoads.isEmpty else { throw .interpreterCannotReadHostMemory(program: loaded.name) }
            code = .interpreted(InterpretedProgram(verified: loaded))
        }
        let program = AttachedProgram(kind: kind, code: code, loaded: loaded)
        try locked { () throws(AttachError) in
            if hook.programs.contains(where: { $0.loaded === loaded }) {
                throw .alreadyAttached(program: loaded.name, hook: hookName)
            }
            guard hook.programs.count < Trampoline.maximumPrograms else {
                throw .tooManyPrograms(hook: hookName, limit: Trampoline.maximumPrograms)
            }
            try hook.install(hook.programs + [program], statistics: statistics)
        }
        return Link(table: self, hook: hook, program: program, engine: engine)
    }

    /// Detaches `program` (what closing its link does).
    func detach(_ program: AttachedProgram, from hook: Hook) throws(AttachError) {
        try locked { () throws(AttachError) in
            guard hook.programs.contains(where: { $0 === program }) else { return }
            try hook.install(hook.programs.filter { $0 !== program }, statistics: statistics)
        }
    }

    // MARK: Statistics and listing

    /// Whether trampolines count each program's runs and cycles (as the kernel's
    /// `bpf_stats_enabled`): off, they contain no code for it. Changing it rebuilds every
    /// attached hook's trampoline.
    public var statisticsEnabled: Bool {
        (try? locked { () throws(AttachError) in statistics }) ?? false
    }

    public func setStatistics(_ enabled: Bool) throws(AttachError) {
        try locked { () throws(AttachError) in
            guard statistics != enabled else { return }
            statistics = enabled
            for hook in hooks where !hook.programs.isEmpty {
                try hook.install(hook.programs, statistics: enabled)
            }
        }
    }

    /// Every hook with what is attached to it now.
    public var status: [HookStatus] {
        (try? locked { () throws(AttachError) in
            hooks.map { hook in
                HookStatus(descriptor: hook.descriptor,
                           programs: hook.programs.map { ProgramStatus(name: $0.name, kind: $0.kind, engine: $0.engine,
                                                                       runs: $0.runs, cycles: $0.cycles) },
                           recursionMisses: hook.misses, retiredTrampolines: hook.retiredCount,
                           siteProblem: hook.siteProblem)
            }
        }) ?? []
    }

    /// Frees the replaced trampolines no thread can be in any more (attaching and detaching do
    /// this too).
    public func reclaim() {
        try? locked { () throws(AttachError) in for hook in hooks { hook.reclaim() } }
    }
}

/// A hook and what is attached to it, at one moment.
public struct HookStatus: Sendable {
    public let descriptor: HookDescriptor
    /// In attach order.
    public let programs: [ProgramStatus]
    /// Calls made from inside one of the hook's own programs, which ran the original only.
    public let recursionMisses: UInt64
    /// Replaced trampolines not freed yet (a thread may still be inside them).
    public let retiredTrampolines: Int
    /// Why the hook's site cannot be patched, if it cannot.
    public let siteProblem: AttachError?
}

/// One attached program's figures (runs and cycles count only while statistics are on).
public struct ProgramStatus: Sendable {
    public let name: String
    public let kind: AttachKind
    public let engine: HookTable.Engine
    public let runs: UInt64
    public let cycles: UInt64
}
