#if canImport(Glibc)
import Glibc
#endif

/// Zero-filled anonymous memory from `mmap` that never moves; it is unmapped only by
/// ``release()``, which ``Map`` calls from `deinit`.
struct StableMemory {
    let base: UnsafeMutableRawPointer
    let size: Int

    /// The system page size.
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Maps `size` bytes (rounded up to pages) of zeroed, lazily committed memory.
    static func allocate(_ size: Int, mapName: String) throws(MapError) -> StableMemory {
        let rounded = roundUp(max(size, 1), to: pageSize)
        guard let base = mmap(nil, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              base != UnsafeMutableRawPointer(bitPattern: -1)
        else { throw MapError(mapName: mapName, reason: .outOfMemory(bytes: size)) }
        return StableMemory(base: base, size: rounded)
    }

    func release() { munmap(base, size) }
}

@inline(__always)
func roundUp(_ value: Int, to alignment: Int) -> Int { (value + alignment - 1) & ~(alignment - 1) }

/// Offsets of the sections of one map allocation, each aligned to a cache line, computed with
/// overflow checks so that absurd definitions fail with `E2BIG` instead of trapping.
struct StorageLayout {
    private(set) var size = 0
    let mapName: String

    /// The most address space one map may reserve (values are committed only when touched).
    static let maximumSize = 1 << 40

    init(mapName: String) { self.mapName = mapName }

    /// Appends a section of `count × stride` bytes and returns its offset.
    mutating func append(_ count: Int, stride: Int = 1) throws(MapError) -> Int {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: stride)
        let offset = roundUp(size, to: 64)
        guard !overflow, bytes <= Self.maximumSize - offset else {
            throw MapError(mapName: mapName, reason: .tooLarge(
                "storage of \(count) × \(stride) bytes exceeds the \(Self.maximumSize >> 40) TiB limit"))
        }
        size = offset + bytes
        return offset
    }
}
