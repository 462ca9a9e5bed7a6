import CSystemShims

/// Stack trace operations (`BPF_MAP_TYPE_STACK_TRACE`; see `StackTraceStorage`).
///
/// A "user stack" here is the stack of the host thread that ran the program, as it was when the
/// run started: instruction addresses, innermost first, from the function that started the run
/// outward (the interpreter's own frames below it are left out, as the kernel leaves out its
/// own); the flags' skip count drops frames from the top as in the kernel. There is no kernel stack: a kernel
/// stack has no frames, so `bpf_get_stackid` fails with `-EFAULT` and `bpf_get_stack` copies
/// nothing, as the kernel does for a stack with no frames.
extension Map {
    private var stackStorage: StackTraceStorage? {
        if case .stacks(let stacks) = storage { stacks } else { nil }
    }

    /// The flags `bpf_get_stackid` accepts (skip count, `BPF_F_USER_STACK`,
    /// `BPF_F_FAST_STACK_CMP`, `BPF_F_REUSE_STACKID`).
    static let stackIDFlags: UInt64 = StackTraceStorage.skipMask | StackTraceStorage.userStack
        | StackTraceStorage.fastCompare | StackTraceStorage.reuseID

    /// The calling thread's frames above `boundary` (see above), innermost first, minus `skip`
    /// frames: at most `capacity` into `frames`; returns how many.
    static func currentStack(into frames: UnsafeMutablePointer<UInt64>, capacity: Int, skip: Int, boundary: UInt64)
        -> Int
    {
        var all = [UInt64](repeating: 0, count: 256)
        let count = Int(all.withUnsafeMutableBufferPointer { bpf_shim_user_stack($0.baseAddress!, 256, boundary) })
        let kept = max(0, min(count - skip, capacity))
        for index in 0..<kept { frames[index] = all[skip + index] }
        return kept
    }

    /// `bpf_get_stackid`: the id of the user stack (frames above `boundary`, see above) (`BPF_F_USER_STACK`) in this
    /// stack trace map; `-EFAULT` for the kernel stack or when skipping leaves no frame, `-EEXIST`
    /// when another stack holds the id (without `BPF_F_REUSE_STACKID`), `-EINVAL` for unknown
    /// flags or another map type.
    public func stackID(flags: UInt64, boundary: UInt64) -> Int64 {
        guard let stacks = stackStorage else { return -22 }
        guard flags & ~Self.stackIDFlags == 0 else { return -22 }
        guard flags & StackTraceStorage.userStack != 0 else { return -14 }
        let skip = Int(flags & StackTraceStorage.skipMask)
        var frames = [UInt64](repeating: 0, count: stacks.depth)
        let count = frames.withUnsafeMutableBufferPointer {
            Self.currentStack(into: $0.baseAddress!, capacity: stacks.depth, skip: skip, boundary: boundary)
        }
        guard count > 0 else { return -14 }
        do throws(MapError.Reason) {
            return Int64(try frames.withUnsafeBufferPointer { buffer throws(MapError.Reason) in
                try stacks.store(UnsafeBufferPointer(rebasing: buffer[0..<count]), flags: flags)
            })
        } catch {
            return Int64(fail(error).errno)
        }
    }

    /// The frames of stack `id` of a stack trace map, innermost first, or nil.
    public func stackTrace(id: Int) -> [UInt64]? {
        stackStorage?.frames(id)
    }

    /// `bpf_get_stack`: copies the user stack (frames above `boundary`) (`BPF_F_USER_STACK`; the kernel
    /// stack has no frames) into `size` bytes at `buffer`, zeroing the rest; returns the bytes
    /// copied, or `-EINVAL` for unknown flags or a size that is not a multiple of 8, `-EFAULT`
    /// when skipping more frames than there are (the buffer is then zeroed).
    public static func copyStack(into buffer: UnsafeMutableRawPointer, size: Int, flags: UInt64, boundary: UInt64)
        -> Int64
    {
        let allowed = StackTraceStorage.skipMask | StackTraceStorage.userStack
        guard flags & ~allowed == 0, size % 8 == 0 else {
            buffer.initializeMemory(as: UInt8.self, repeating: 0, count: max(size, 0))
            return -22
        }
        let skip = Int(flags & StackTraceStorage.skipMask)
        var count = 0
        if flags & StackTraceStorage.userStack != 0 {
            count = currentStack(into: buffer.assumingMemoryBound(to: UInt64.self), capacity: size / 8, skip: skip,
                                 boundary: boundary)
            if count == 0 && skip > 0 {
                buffer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
                return -14
            }
        } else if skip > 0 {
            buffer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            return -14
        }
        (buffer + count * 8).initializeMemory(as: UInt8.self, repeating: 0, count: size - count * 8)
        return Int64(count * 8)
    }
}
