import CAttach

/// Rewrites 5-byte instructions of running code: compares the bytes there with those expected
/// (a mismatch is an error: someone else patched it), writes the word holding them with one
/// aligned 8-byte atomic store, and, after a batch, serialises every thread of the process with
/// `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE)` (registered once, on first use).
/// Callers hold the hook table's lock: all patching is serialised.
enum CodePatcher {
    /// Replaces the 5 bytes at `address` (inside one aligned 8-byte word) by `new` if they are `old`.
    static func replace(at address: UInt64, old: [UInt8], new: [UInt8], hook: String) throws(AttachError) {
        precondition(old.count == 5 && new.count == 5 && address % 8 <= 3)
        let word = address & ~7
        let shift = Int(address - word)
        let current = HookSite.read(word, count: 8)
        guard Array(current[shift..<shift + 5]) == old else {
            throw .siteChanged(hook: hook, expected: old, found: Array(current[shift..<shift + 5]))
        }
        var replacement = current
        replacement.replaceSubrange(shift..<shift + 5, with: new)
        func value(_ bytes: [UInt8]) -> UInt64 { bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        let status = bpfrun_patch_code_word(UnsafeMutablePointer(bitPattern: UInt(word)), value(current), value(replacement))
        if status == -1 {
            throw .siteChanged(hook: hook, expected: old, found: Array(HookSite.read(address, count: 5)))
        }
        if status != 0 { throw .system(call: "mprotect", errno: status) }
    }

    /// Registers the process for the membarrier (once): before anything is patched, so that a
    /// process that cannot synchronise its threads patches nothing.
    static func prepare() throws(AttachError) {
        try registration.get()
    }

    /// Makes every thread of the process execute the code as it is now.
    static func synchronize() throws(AttachError) {
        let status = bpfrun_membarrier_sync_core()
        if status != 0 { throw .system(call: "membarrier(PRIVATE_EXPEDITED_SYNC_CORE)", errno: status) }
    }

    private static let registration: Result<Void, AttachError> = {
        let status = bpfrun_membarrier_register()
        return status == 0 ? .success(()) : .failure(.system(call: "membarrier(REGISTER_PRIVATE_EXPEDITED_SYNC_CORE)", errno: status))
    }()
}
