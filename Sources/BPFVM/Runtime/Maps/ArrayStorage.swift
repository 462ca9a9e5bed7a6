#if canImport(Glibc)
import Glibc
#endif

/// The storage of an array or per-thread array map, which owns its memory: `max_entries` value slots of
/// `round_up(value_size, 8)` bytes, zero-initialised, in one allocation that never moves.
///
/// A per-thread array holds one such block per thread slot, slot-major, so each thread touches
/// only its own pages. Lookups take no lock; updates copy bytes, so a reader racing an update
/// of the same value may see a mix of old and new bytes, as in the kernel without `BPF_F_LOCK`.
final class ArrayStorage {
    let memory: StableMemory
    let values: UnsafeMutableRawPointer
    let valueSize: Int
    let stride: Int
    let maxEntries: Int
    let slotCount: Int
    let slotSize: Int
    let slotKey: pthread_key_t

    var isPerThread: Bool { slotCount > 1 }
    var totalSize: Int { slotSize * slotCount }

    /// The bytes an array of this definition needs.
    static func size(of definition: MapDefinition, slotCount: Int) throws(MapError) -> Int {
        var layout = StorageLayout(mapName: definition.name)
        _ = try layout.append(definition.maxEntries * slotCount, stride: roundUp(definition.valueSize, to: 8))
        return layout.size
    }

    /// Allocates zeroed storage for `definition` with `slotCount` copies of every value.
    init(_ definition: MapDefinition, slotCount: Int) throws(MapError) {
        memory = try StableMemory.allocate(try Self.size(of: definition, slotCount: slotCount), mapName: definition.name)
        values = memory.base
        valueSize = definition.valueSize
        stride = roundUp(definition.valueSize, to: 8)
        maxEntries = definition.maxEntries
        self.slotCount = slotCount
        slotSize = stride * maxEntries
        slotKey = ThreadSlots.shared.key
    }

    deinit { memory.release() }

    @inline(__always)
    func value(at index: Int, slot: Int) -> UnsafeMutableRawPointer {
        values + (slot &* slotSize &+ index &* stride)
    }

    @inline(__always)
    func index(_ key: UnsafeRawPointer) -> UInt32 { key.loadUnaligned(as: UInt32.self) }

    @inline(__always)
    func lookup(_ key: UnsafeRawPointer) -> UnsafeMutableRawPointer? {
        let index = Int(index(key))
        guard index < maxEntries else { return nil }
        return value(at: index, slot: isPerThread ? ThreadSlots.current(key: slotKey) : 0)
    }

    /// The value for `key` in thread slot `slot` (for per-thread arrays).
    func lookup(_ key: UnsafeRawPointer, slot: Int) -> UnsafeMutableRawPointer? {
        let index = Int(index(key))
        guard index < maxEntries, slot >= 0, slot < slotCount else { return nil }
        return value(at: index, slot: slot)
    }

    /// The kernel's `array_map_update_elem`: bad flags `EINVAL`, index past the end `E2BIG`,
    /// `BPF_NOEXIST` `EEXIST` (every index exists).
    func update(_ key: UnsafeRawPointer, _ value: UnsafeRawPointer, flags: UInt64,
                write: ValueWrite) throws(MapError.Reason) {
        let mode = try MapUpdateFlags.validated(flags)
        let index = index(key)
        guard Int(index) < maxEntries else { throw .indexOutOfRange(UInt64(index), maxEntries: maxEntries) }
        if mode == .noExist { throw .keyExists }
        switch write {
        case .currentThread:
            self.value(at: Int(index), slot: isPerThread ? ThreadSlots.current(key: slotKey) : 0)
                .copyMemory(from: value, byteCount: valueSize)
        case .everySlot:
            for slot in 0..<slotCount {
                self.value(at: Int(index), slot: slot).copyMemory(from: value, byteCount: valueSize)
            }
        }
    }

    /// The kernel's `array_map_get_next_key`: a missing or out-of-range key restarts at 0.
    func nextKey(after key: UnsafeRawPointer?) -> UInt32? {
        guard let key else { return 0 }
        let index = index(key)
        if Int(index) >= maxEntries { return 0 }
        return Int(index) + 1 < maxEntries ? index + 1 : nil
    }
}
