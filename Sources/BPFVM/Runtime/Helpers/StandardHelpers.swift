#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// The helpers this runtime offers BPF programs, with the kernel's ids, names and prototypes.
///
/// Every implementation is a C-convention function, so the interpreter and JIT-compiled code
/// call the same code; helpers that need per-run state (the random generator) or the object's
/// trace sink find them through the context pointer, the run's `RunContext`. `tail_call` and
/// `loop` change the run's control flow, so the engines perform them.
public enum StandardHelpers {
    /// All standard helpers in one table.
    public static let table = HelperTable(all)

    /// The standard helpers, by id.
    public static let all: [Helper] = [
        Helper(id: 1, name: "map_lookup_elem", arguments: [.mapPointer, .mapKey], returns: .mapValueOrNull) {
            map, key, _, _, _, _ in
            guard let key = pointer(key) else { return 0 }
            return UInt64(UInt(bitPattern: Map.lookup(pointer(map)!, key: key)))
        },
        Helper(id: 2, name: "map_update_elem", arguments: [.mapPointer, .mapKey, .mapValue, .anything]) {
            map, key, value, flags, _, _ in
            guard let key = pointer(key), let value = pointer(value) else { return errno(EFAULT) }
            return status { () throws(MapError) in
                try Map.fromOpaque(pointer(map)!).update(key: key, value: value, flags: flags)
            }
        },
        Helper(id: 3, name: "map_delete_elem", arguments: [.mapPointer, .mapKey]) { map, key, _, _, _, _ in
            guard let key = pointer(key) else { return errno(EFAULT) }
            return status { () throws(MapError) in
                try Map.fromOpaque(pointer(map)!).delete(key: key)
            }
        },
        Helper(id: 4, name: "probe_read", arguments: [.writableMemory, .size(allowsZero: true), .anything],
               isGPLOnly: true, availability: .hostMemoryReads, function: probeRead),
        Helper(id: 5, name: "ktime_get_ns") { _, _, _, _, _, _ in clock(CLOCK_MONOTONIC) },
        // Variadic: r3-r5 are read only as far as the format asks, so the prototype names two arguments.
        Helper(id: 6, name: "trace_printk", arguments: [.readableMemory, .size(allowsZero: false)],
               isGPLOnly: true) {
            format, size, a, b, c, context in
            printk(context, format: format, size: size, arguments: [a, b, c])
        },
        Helper(id: 7, name: "get_prandom_u32") { _, _, _, _, _, context in
            UInt64(RunContext.nextRandom(context))
        },
        // Per-CPU maps are per-thread here, so the "processor" is the calling thread's slot in them.
        Helper(id: 8, name: "get_smp_processor_id") { _, _, _, _, _, _ in UInt64(Map.currentThreadSlot) },
        Helper(id: 12, name: "tail_call", arguments: [.context, .mapPointer, .scalar], operation: .tailCall),
        Helper(id: 25, name: "perf_event_output", arguments: [.context, .mapPointer, .anything, .readableMemory,
                                                                .size(allowsZero: true)], isGPLOnly: true) {
            _, map, flags, data, size, _ in
            guard let data = pointer(data) else { return errno(EFAULT) }
            return status { () throws(MapError) in
                try Map.fromOpaque(pointer(map)!).perfEventOutput(data, size: Int(truncatingIfNeeded: size), flags: flags)
            }
        },
        Helper(id: 27, name: "get_stackid", arguments: [.context, .mapPointer, .anything], isGPLOnly: true,
               availability: .tracing) { _, map, flags, _, _, context in
            UInt64(bitPattern: Map.fromOpaque(pointer(map)!).stackID(flags: flags,
                                                                     boundary: RunContext.stackBoundary(context)))
        },
        Helper(id: 14, name: "get_current_pid_tgid", availability: .tracing) { _, _, _, _, _, _ in
            UInt64(UInt32(bitPattern: getpid())) << 32 | UInt64(UInt32(bitPattern: bpf_shim_gettid()))
        },
        Helper(id: 15, name: "get_current_uid_gid", availability: .tracing) { _, _, _, _, _, _ in
            UInt64(getgid()) << 32 | UInt64(getuid())
        },
        Helper(id: 16, name: "get_current_comm", arguments: [.writableMemory, .size(allowsZero: false)],
               availability: .tracing) {
            buffer, size, _, _, _, _ in
            guard let buffer = pointer(buffer), size > 0 else { return errno(EINVAL) }
            var name = [CChar](repeating: 0, count: 16)
            name.withUnsafeMutableBufferPointer { bpf_shim_thread_name($0.baseAddress!) }
            let count = min(Int(size), 16)
            name.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: count) }
            buffer.storeBytes(of: 0, toByteOffset: count - 1, as: UInt8.self)
            return 0
        },
        Helper(id: 37, name: "current_task_under_cgroup", arguments: [.mapPointer, .anything], availability: .tracing) {
            map, index, _, _, _, context in
            UInt64(bitPattern: Map.fromOpaque(pointer(map)!).isUnderCgroup(at: index, currentCgroup(context)))
        },
        Helper(id: 45, name: "probe_read_str", arguments: [.writableMemory, .size(allowsZero: true), .anything],
               isGPLOnly: true, availability: .hostMemoryReads, function: probeReadString),
        Helper(id: 67, name: "get_stack", arguments: [.context, .writableMemory, .size(allowsZero: true), .anything],
               isGPLOnly: true, availability: .tracing) {
            _, buffer, size, flags, _, context in
            guard let buffer = pointer(buffer) else { return errno(EFAULT) }
            return UInt64(bitPattern: Map.copyStack(into: buffer, size: Int(truncatingIfNeeded: size), flags: flags,
                                                    boundary: RunContext.stackBoundary(context)))
        },
        Helper(id: 80, name: "get_current_cgroup_id", availability: .tracing) { _, _, _, _, _, context in
            currentCgroup(context).id
        },
        Helper(id: 87, name: "map_push_elem", arguments: [.mapPointer, .mapValue, .anything]) {
            map, value, flags, _, _, _ in
            guard let value = pointer(value) else { return errno(EFAULT) }
            return status { () throws(MapError) in
                try Map.fromOpaque(pointer(map)!).push(value: value, flags: flags)
            }
        },
        Helper(id: 88, name: "map_pop_elem", arguments: [.mapPointer, .uninitializedMapValue]) { map, value, _, _, _, _ in
            guard let value = pointer(value) else { return errno(EFAULT) }
            return status { () throws(MapError) in
                try Map.fromOpaque(pointer(map)!).pop(into: value)
            }
        },
        Helper(id: 89, name: "map_peek_elem", arguments: [.mapPointer, .uninitializedMapValue]) { map, value, _, _, _, _ in
            guard let value = pointer(value) else { return errno(EFAULT) }
            return status { () throws(MapError) in
                try Map.fromOpaque(pointer(map)!).peek(into: value)
            }
        },
        Helper(id: 112, name: "probe_read_user", arguments: [.writableMemory, .size(allowsZero: true), .anything],
               availability: .hostMemoryReads, function: probeRead),
        Helper(id: 113, name: "probe_read_kernel", arguments: [.writableMemory, .size(allowsZero: true), .anything],
               isGPLOnly: true, availability: .hostMemoryReads, function: probeRead),
        Helper(id: 114, name: "probe_read_user_str", arguments: [.writableMemory, .size(allowsZero: true), .anything],
               availability: .hostMemoryReads, function: probeReadString),
        Helper(id: 115, name: "probe_read_kernel_str",
               arguments: [.writableMemory, .size(allowsZero: true), .anything], isGPLOnly: true,
               availability: .hostMemoryReads, function: probeReadString),
        Helper(id: 125, name: "ktime_get_boot_ns") { _, _, _, _, _, _ in clock(CLOCK_BOOTTIME) },
        Helper(id: 130, name: "ringbuf_output", arguments: [.mapPointer, .readableMemory, .size(allowsZero: true),
                                                            .anything]) {
            map, data, size, flags, _, _ in
            guard let data = pointer(data) else { return errno(EFAULT) }
            return status { () throws(MapError) in
                try Map.fromOpaque(pointer(map)!).output(data, size: Int(truncatingIfNeeded: size), flags: flags)
            }
        },
        Helper(id: 131, name: "ringbuf_reserve", arguments: [.mapPointer, .scalar, .anything],
               returns: .ringBufferMemoryOrNull) { map, size, flags, _, _, _ in
            UInt64(UInt(bitPattern: Map.fromOpaque(pointer(map)!).reserve(size: Int(truncatingIfNeeded: size),
                                                                           flags: flags)))
        },
        Helper(id: 132, name: "ringbuf_submit", arguments: [.ringBufferSample, .anything]) { sample, flags, _, _, _, _ in
            if let sample = pointer(sample) { Map.submit(sample, flags: flags) }
            return 0
        },
        Helper(id: 133, name: "ringbuf_discard", arguments: [.ringBufferSample, .anything]) { sample, flags, _, _, _, _ in
            if let sample = pointer(sample) { Map.discard(sample, flags: flags) }
            return 0
        },
        Helper(id: 134, name: "ringbuf_query", arguments: [.mapPointer, .anything]) { map, flag, _, _, _, _ in
            Map.fromOpaque(pointer(map)!).query(flag)
        },
        Helper(id: 160, name: "ktime_get_coarse_ns") { _, _, _, _, _, _ in clock(CLOCK_MONOTONIC_COARSE) },
        Helper(id: 165, name: "snprintf", arguments: [.writableMemory, .size(allowsZero: true), .constantString,
                                                      .readableMemory, .size(allowsZero: true)]) {
            buffer, size, format, data, length, _ in
            guard let formatPointer = pointer(format), length % 8 == 0, length <= 8 * 12 else { return errno(EINVAL) }
            let arguments = words(data, count: Int(length / 8))
            guard let text = PrintFormat.format(cString(formatPointer), arguments: arguments) else { return errno(EINVAL) }
            let bytes = Array(text.utf8)
            if size > 0, let buffer = pointer(buffer) {
                let count = min(bytes.count, Int(size) - 1)
                bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: count) }
                buffer.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
            }
            return UInt64(bytes.count + 1)
        },
        Helper(id: 177, name: "trace_vprintk", arguments: [.readableMemory, .size(allowsZero: false),
                                                           .readableMemory, .size(allowsZero: true)], isGPLOnly: true) {
            format, size, data, length, _, context in
            guard length % 8 == 0, length <= 8 * 12 else { return errno(EINVAL) }
            let arguments = words(data, count: Int(length / 8))
            return printk(context, format: format, size: size, arguments: arguments)
        },
        Helper(id: 181, name: "loop", arguments: [.scalar, .callback, .anything, .scalar], operation: .loop),
        Helper(id: 182, name: "strncmp", arguments: [.readableMemory, .size(allowsZero: true), .constantString]) {
            first, size, second, _, _, _ in
            guard let first = pointer(first), let second = pointer(second) else { return errno(EFAULT) }
            let a = first.assumingMemoryBound(to: UInt8.self), b = second.assumingMemoryBound(to: UInt8.self)
            for index in 0..<Int(truncatingIfNeeded: size) {
                if a[index] != b[index] { return UInt64(bitPattern: a[index] < b[index] ? -1 : 1) }
                if a[index] == 0 { break }
            }
            return 0
        },
        Helper(id: 195, name: "map_lookup_percpu_elem", arguments: [.mapPointer, .mapKey, .anything],
               returns: .mapValueOrNull) { map, key, cpu, _, _, _ in
            guard let key = pointer(key), cpu < UInt64(Map.threadSlotCount) else { return 0 }
            return UInt64(UInt(bitPattern: Map.fromOpaque(pointer(map)!).lookup(key: key, threadSlot: Int(cpu))))
        },
        Helper(id: 208, name: "ktime_get_tai_ns") { _, _, _, _, _, _ in clock(CLOCK_TAI) },
    ]

    // MARK: - Shared pieces

    @inline(__always)
    static func pointer(_ value: UInt64) -> UnsafeMutableRawPointer? {
        UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: value))
    }

    /// 0 when `body` succeeds, else the map error's negative errno, as r0.
    static func status(_ body: () throws(MapError) -> Void) -> UInt64 {
        do {
            try body()
            return 0
        } catch {
            return UInt64(bitPattern: Int64(error.errno))
        }
    }

    /// `count` little-endian u64 words at `address` (the argument arrays of `snprintf` and `trace_vprintk`).
    static func words(_ address: UInt64, count: Int) -> [UInt64] {
        guard count > 0, let base = pointer(address) else { return [] }
        return (0..<count).map { base.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
    }

    /// The cgroup of the run behind a helper's context pointer (the process's own for a bare run).
    static func currentCgroup(_ context: UnsafeMutableRawPointer?) -> Cgroup {
        ExecutionContext.from(context)?.cgroup ?? .ofProcess
    }

    /// `-code` as r0.
    static func errno(_ code: Int32) -> UInt64 { UInt64(bitPattern: -Int64(code)) }

    static func clock(_ id: clockid_t) -> UInt64 {
        var now = timespec()
        clock_gettime(id, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    /// The NUL-terminated bytes at `pointer` (at most 4096).
    static func cString(_ pointer: UnsafeMutableRawPointer) -> [UInt8] {
        let bytes = pointer.assumingMemoryBound(to: UInt8.self)
        var result: [UInt8] = []
        while result.count < 4096 && bytes[result.count] != 0 { result.append(bytes[result.count]) }
        return result
    }

    static func printk(_ context: UnsafeMutableRawPointer?, format: UInt64, size: UInt64, arguments: [UInt64]) -> UInt64 {
        guard let formatPointer = pointer(format), size > 0, size <= 4096 else { return errno(EINVAL) }
        let bytes = UnsafeRawBufferPointer(start: formatPointer, count: Int(size))
        guard bytes.contains(0), let text = PrintFormat.format(bytes, arguments: arguments) else { return errno(EINVAL) }
        ExecutionContext.from(context)?.trace.write(text.hasSuffix("\n") ? String(text.dropLast()) : text)
        return UInt64(text.utf8.count)
    }

    static let probeRead: HelperFunction = { destination, size, source, _, _, _ in
        guard let destination = pointer(destination) else { return errno(EFAULT) }
        return UInt64(bitPattern: FaultSafeMemory.copy(to: destination, from: source, count: Int(truncatingIfNeeded: size)))
    }

    static let probeReadString: HelperFunction = { destination, size, source, _, _, _ in
        guard let destination = pointer(destination) else { return errno(EFAULT) }
        return UInt64(bitPattern: FaultSafeMemory.copyString(to: destination, from: source,
                                                             capacity: Int(truncatingIfNeeded: size)))
    }
}
