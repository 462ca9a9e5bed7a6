import Synchronization

/// The cgroups of a cgroup array (`BPF_MAP_TYPE_CGROUP_ARRAY`), by path; the host stores them
/// (where the kernel's user space stores cgroup file descriptors) and programs ask whether the
/// current task is under one with `bpf_current_task_under_cgroup`.
final class CgroupSlots: Sendable {
    let count: Int
    private let paths: Mutex<[String?]>

    init(count: Int) {
        self.count = count
        paths = Mutex([String?](repeating: nil, count: count))
    }

    subscript(index: Int) -> String? { paths.withLock { $0[index] } }

    /// Stores `path` (nil empties the slot) and returns whether the slot held one before.
    @discardableResult
    func set(_ path: String?, at index: Int) -> Bool {
        paths.withLock { paths in
            defer { paths[index] = path }
            return paths[index] != nil
        }
    }

    var occupiedIndices: [Int] { paths.withLock { paths in paths.indices.filter { paths[$0] != nil } } }
}

extension Map {
    private var cgroupSlots: CgroupSlots? {
        if case .cgroups(let slots) = storage { slots } else { nil }
    }

    /// Stores the cgroup at `path` (`/` is the root; nil empties the slot) at `index` of a cgroup
    /// array: `-E2BIG` past `max_entries`, `-EINVAL` for another map type or a relative path.
    public func setCgroup(_ path: String?, at index: Int) throws(MapError) {
        guard let slots = cgroupSlots else { throw unsupported("setCgroup", instead: "a cgroup_array map") }
        guard index >= 0, index < slots.count else {
            throw fail(.indexOutOfRange(UInt64(bitPattern: Int64(index)), maxEntries: slots.count))
        }
        if let path, !path.hasPrefix("/") {
            throw fail(.invalidDefinition("cgroup path '\(path)' must start with '/' (the root of the hierarchy)"))
        }
        try checkHostWritable()
        slots.set(path, at: index)
    }

    /// The cgroup path at `index` of a cgroup array, or nil.
    public func cgroup(at index: Int) -> String? {
        guard let slots = cgroupSlots, index >= 0, index < slots.count else { return nil }
        return slots[index]
    }

    /// `bpf_current_task_under_cgroup`: 1 when `current` is the cgroup at `index` or below it, 0
    /// when not; `-E2BIG` past `max_entries`, `-EAGAIN` for an empty slot, `-EINVAL` for another
    /// map type.
    public func isUnderCgroup(at index: UInt64, _ current: Cgroup) -> Int64 {
        guard let slots = cgroupSlots else { return -22 }  // -EINVAL
        guard index < UInt64(slots.count) else { return -7 }  // -E2BIG
        guard let path = slots[Int(index)] else { return -11 }  // -EAGAIN
        return current.isUnder(path) ? 1 : 0
    }

    func removeCgroup(at index: UInt32) throws(MapError) {
        guard let slots = cgroupSlots, Int(index) < slots.count else {
            throw fail(.indexOutOfRange(UInt64(index), maxEntries: definition.maxEntries))
        }
        if !slots.set(nil, at: Int(index)) { throw fail(.noSuchKey) }
    }
}
