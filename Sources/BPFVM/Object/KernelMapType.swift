/// A map type as an object declares it: any number of the kernel's `enum bpf_map_type`, named as libbpf and
/// bpftool name it (`perf_event_array`, `cgroup_array`, `array_of_maps`, ...).
///
/// Parsing accepts every number, so that any object can be inspected; whether this runtime can create a map of
/// the type is ``runtimeType``, asked only when the map is created.
public struct KernelMapType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `BPF_MAP_TYPE_*` number.
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// libbpf's name for the type (`map_type_name`), or nil for a number past the kernel's table.
    public var name: String? {
        rawValue < UInt32(Self.names.count) ? Self.names[Int(rawValue)] : nil
    }

    /// The name, or `unknown map type N` for a number the kernel does not define.
    public var description: String { name ?? "unknown map type \(rawValue)" }

    /// The map this runtime creates for the type, or nil when it implements none: ``MapType`` carries the
    /// kernel's numbers, so a type gains runtime support by gaining a ``MapType`` case.
    public var runtimeType: MapType? { MapType(rawValue: rawValue) }

    /// libbpf's names by number, `BPF_MAP_TYPE_UNSPEC` (0) to `BPF_MAP_TYPE_ARENA` (33).
    private static let names = [
        "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash", "percpu_array",
        "stack_trace", "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps",
        "hash_of_maps", "devmap", "sockmap", "cpumap", "xskmap", "sockhash", "cgroup_storage",
        "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack", "sk_storage", "devmap_hash",
        "struct_ops", "ringbuf", "inode_storage", "task_storage", "bloom_filter", "user_ringbuf",
        "cgrp_storage", "arena",
    ]

    public static let unspecified = Self(rawValue: 0)
    public static let hash = Self(rawValue: 1)
    public static let array = Self(rawValue: 2)
    public static let programArray = Self(rawValue: 3)
    public static let perfEventArray = Self(rawValue: 4)
    public static let perCPUHash = Self(rawValue: 5)
    public static let perCPUArray = Self(rawValue: 6)
    public static let stackTrace = Self(rawValue: 7)
    public static let cgroupArray = Self(rawValue: 8)
    public static let lruHash = Self(rawValue: 9)
    public static let lruPerCPUHash = Self(rawValue: 10)
    public static let longestPrefixMatchTrie = Self(rawValue: 11)
    public static let arrayOfMaps = Self(rawValue: 12)
    public static let hashOfMaps = Self(rawValue: 13)
    public static let deviceMap = Self(rawValue: 14)
    public static let socketMap = Self(rawValue: 15)
    public static let cpuMap = Self(rawValue: 16)
    public static let xdpSocketMap = Self(rawValue: 17)
    public static let socketHash = Self(rawValue: 18)
    public static let cgroupStorage = Self(rawValue: 19)
    public static let reuseportSocketArray = Self(rawValue: 20)
    public static let perCPUCgroupStorage = Self(rawValue: 21)
    public static let queue = Self(rawValue: 22)
    public static let stack = Self(rawValue: 23)
    public static let socketStorage = Self(rawValue: 24)
    public static let deviceMapHash = Self(rawValue: 25)
    public static let structOps = Self(rawValue: 26)
    public static let ringBuffer = Self(rawValue: 27)
    public static let inodeStorage = Self(rawValue: 28)
    public static let taskStorage = Self(rawValue: 29)
    public static let bloomFilter = Self(rawValue: 30)
    public static let userRingBuffer = Self(rawValue: 31)
    public static let cgroupLocalStorage = Self(rawValue: 32)
    public static let arena = Self(rawValue: 33)
}
