import CAttach

/// Where generated code finds the calling thread's attach state (`bpfrun_thread_state`, in
/// initial-exec TLS): at fixed offsets from the thread pointer (`fs:0`), the same in every thread.
enum ThreadState {
    static let base = Int32(bpfrun_thread_state_offset())

    static let registered = base + Int32(MemoryLayout<bpfrun_thread_state>.offset(of: \.registered)!)
    /// How deep the thread is in hook `index`'s trampolines.
    static func depth(_ index: Int) -> Int32 {
        base + Int32(MemoryLayout<bpfrun_thread_state>.offset(of: \.depth)! + 8 * index)
    }
    /// How many times the thread's depth in hook `index` returned to 0.
    static func quiescent(_ index: Int) -> Int32 {
        base + Int32(MemoryLayout<bpfrun_thread_state>.offset(of: \.quiescent)! + 8 * index)
    }
    /// Set while the thread runs hook `index`'s programs (the recursion guard).
    static func active(_ index: Int) -> Int32 {
        base + Int32(MemoryLayout<bpfrun_thread_state>.offset(of: \.active)! + index)
    }

    static var registerAddress: UInt64 {
        UInt64(UInt(bitPattern: unsafeBitCast(bpfrun_register_thread as @convention(c) () -> Void, to: UnsafeRawPointer.self)))
    }
}

/// The most hooks a process may declare (the per-thread state has a slot for each).
let maximumHooks = Int(BPFRUN_MAX_HOOKS)
