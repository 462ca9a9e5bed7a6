/// The kinds of map this runtime implements, numbered as the kernel's `BPF_MAP_TYPE_*`.
///
/// `perThreadHash` and `perThreadArray` carry the kernel's per-CPU numbers (5 and 6): in user
/// space every thread gets its own copy of each value (see ``Map`` for the slot scheme).
public enum MapType: UInt32, Sendable, CaseIterable {
    case hash = 1
    case array = 2
    case programArray = 3
    /// Per-thread record buffers the host drains (see `Map+PerfEventArray`).
    case perfEventArray = 4
    case perThreadHash = 5
    case perThreadArray = 6
    /// Call stacks by id, filled by `bpf_get_stackid` (see `StackTraceStorage`).
    case stackTrace = 7
    /// Cgroup paths for `bpf_current_task_under_cgroup` (see `Map+CgroupArray`).
    case cgroupArray = 8
    case lruHash = 9
    /// Maps of one template by index, or by key (see `InnerMapTable`).
    case arrayOfMaps = 12
    case hashOfMaps = 13
    case queue = 22
    case stack = 23
    case ringBuffer = 27

    /// The name bpftool and libbpf print for the type (`percpu_hash` for ``perThreadHash``).
    public var name: String { KernelMapType(rawValue: rawValue).description }

    /// Whether each thread has its own copy of every value.
    public var isPerThread: Bool { self == .perThreadHash || self == .perThreadArray }

    /// Whether keys are hashed (hash, per-thread hash, LRU hash).
    public var isHash: Bool { self == .hash || self == .perThreadHash || self == .lruHash }

    /// Whether values are other maps (array of maps, hash of maps).
    public var holdsMaps: Bool { self == .arrayOfMaps || self == .hashOfMaps }

    /// The type for a kernel map type number, or an error naming the type when this runtime
    /// does not implement it (for example `perf_event_array`).
    public static func validated(_ rawValue: UInt32, mapName: String) throws(MapError) -> MapType {
        guard let type = MapType(rawValue: rawValue) else {
            throw MapError(mapName: mapName, reason: .unsupportedType(rawValue))
        }
        return type
    }
}
