import CAttach

/// One hook of the process: its descriptor and patch site, the programs attached in attach
/// order, the trampoline running now, and retired trampolines waiting until no thread can be in
/// them. Changed only under the hook table's lock.
final class Hook: @unchecked Sendable {
    let index: Int
    let descriptor: HookDescriptor
    /// The checked site, or why it cannot be patched.
    let site: Result<HookSite, AttachError>
    private(set) var programs: [AttachedProgram] = []
    private(set) var trampoline: Trampoline?
    private var stub: EntryStub?
    /// Trampolines replaced, with the threads that were inside the hook when they were.
    private var retired: [(trampoline: Trampoline, busy: [bpfrun_busy_thread])] = []
    /// Trampolines replaced when the membarrier failed: kept for good.
    private var unreclaimable: [Trampoline] = []
    /// Calls that found the thread already running this hook's programs.
    let missCounter: UnsafeMutablePointer<UInt64>

    init(index: Int, descriptor: HookDescriptor, site: Result<HookSite, AttachError>) {
        self.index = index
        self.descriptor = descriptor
        self.site = site
        missCounter = .allocate(capacity: 1)
        missCounter.initialize(to: 0)
    }

    var misses: UInt64 { missCounter.pointee }
    var siteProblem: AttachError? {
        if case .failure(let error) = site { return error }
        return nil
    }
    /// Trampolines replaced and not yet freed.
    var retiredCount: Int { retired.count }

    /// Makes `programs` (in attach order) what the hook runs: a new trampoline, swapped in
    /// with one patch of the stub's jmp (and of the site when the hook goes from detached to
    /// attached or back), then a membarrier; the old trampoline retires.
    func install(_ programs: [AttachedProgram], statistics: Bool) throws(AttachError) {
        let site = try site.get()
        try CodePatcher.prepare()
        let stub: EntryStub
        if let existing = self.stub {
            stub = existing
        } else {
            stub = try EntryStub(hook: descriptor.name, index: index, site: site.address, original: site.original)
            self.stub = stub
        }
        let next = try programs.isEmpty ? nil : Trampoline(Trampoline.Plan(
            hookIndex: index, descriptor: descriptor, original: site.original, exit: stub.exit,
            missCounter: missCounter, programs: programs, statistics: statistics))
        let current = trampoline?.address ?? stub.passThrough
        let target = next?.address ?? stub.passThrough
        let attachedSite = site.jump(to: stub.entry)
        if current != target {
            try CodePatcher.replace(at: stub.jump, old: stub.jumpBytes(to: current), new: stub.jumpBytes(to: target),
                                    hook: descriptor.name)
        }
        do {
            if trampoline == nil, next != nil {
                try CodePatcher.replace(at: site.address, old: site.detachedBytes, new: attachedSite, hook: descriptor.name)
            } else if trampoline != nil, next == nil {
                try CodePatcher.replace(at: site.address, old: attachedSite, new: site.detachedBytes, hook: descriptor.name)
            }
        } catch {
            // Leave the stub as the site expects it.
            try? CodePatcher.replace(at: stub.jump, old: stub.jumpBytes(to: target), new: stub.jumpBytes(to: current),
                                     hook: descriptor.name)
            throw error
        }
        let old = trampoline
        trampoline = next
        self.programs = programs
        do {
            try CodePatcher.synchronize()
        } catch {
            // The new code is in place, but other threads may not have seen it yet: the old
            // trampoline can never be proven free.
            if let old { unreclaimable.append(old) }
            throw error
        }
        if let old { retire(old) }
        reclaim()
    }

    /// Records the threads inside the hook now (after the membarrier: none of them can enter
    /// `old` any more); `old` is freed once each has left the hook.
    private func retire(_ old: Trampoline) {
        var busy = [bpfrun_busy_thread](repeating: bpfrun_busy_thread(), count: 16)
        while true {
            let count = bpfrun_busy_threads(UInt32(index), &busy, busy.count)
            if count <= busy.count {
                busy.removeLast(busy.count - count)
                break
            }
            busy = [bpfrun_busy_thread](repeating: bpfrun_busy_thread(), count: count * 2)
        }
        retired.append((old, busy))
    }

    /// Frees the retired trampolines no thread can be in or return into any more (and with
    /// them the programs only they used).
    func reclaim() {
        retired.removeAll { entry in
            entry.busy.isEmpty || bpfrun_threads_left(UInt32(index), entry.busy, entry.busy.count) != 0
        }
    }
}
