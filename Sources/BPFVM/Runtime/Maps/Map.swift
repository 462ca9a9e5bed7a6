import Synchronization

/// A map: typed key/value storage shared between programs and the host, safe under concurrent
/// use by any number of threads, whose value memory never moves or is unmapped while it lives.
///
/// **Storage.** Every map preallocates storage for all `max_entries` entries when it is created,
/// in one `mmap` (zeroed, committed lazily by the kernel): arrays as contiguous 8-byte-aligned
/// slots; hash maps as elements that deletes recycle through a free list. A pointer returned by
/// ``lookup(key:)`` therefore stays valid for the map's lifetime; after the entry is deleted it
/// may come to hold another entry's value, as in the kernel's preallocated hash maps.
///
/// **Programs and helpers.** A program refers to a map by `Unmanaged.passUnretained(map).toOpaque()`
/// (``opaquePointer``); a `@convention(c)` helper gets the map back with ``fromOpaque(_:)``.
/// The loader keeps the map alive while programs use it. The raw-pointer methods are the
/// helpers' interface: they allocate nothing and report failures as ``MapError``, whose
/// ``MapError/errno`` the helper returns. Array lookups take no lock; hash lookups take no lock
/// either (see `HashStorage`); updates copy bytes, so a reader racing an update of the same value
/// may see a torn value, as in the kernel without `BPF_F_LOCK` (which is not supported).
///
/// **Per-thread maps** (`percpu_hash`, `percpu_array`): the user-space analogue of per-CPU maps.
/// Every map holds ``threadSlotCount`` copies of each value, `max(64, 4 × configured CPUs)` and
/// at most 1024, the same number for every map. A thread gets a slot (the same index in every
/// per-thread map) the first time it touches one and returns it when it exits; a later thread
/// may receive that slot and then sees the values left in it, as a task sees the values of the
/// CPU it runs on. Programs and ``lookup(key:)`` see the calling thread's copy; the host sees
/// every copy with ``lookupAll(_:)`` and writes every copy with ``update(_:_:flags:)``. When more
/// threads than slots use per-thread maps at once, the extra threads share slots round-robin:
/// they stay correct as maps but lose isolation, so two threads may then race on one copy.
/// Keys of a per-thread hash are shared: an entry exists for all threads or none.
public final class Map: @unchecked Sendable {
    /// What the map is, as created.
    public let definition: MapDefinition

    // Exactly one storage is set, retained by hand (released in deinit): through `Unmanaged`
    // the hot paths reach it without any reference counting.
    private let arrayStorage: Unmanaged<ArrayStorage>?
    private let hashStorage: Unmanaged<HashStorage>?
    private let queueStorage: Unmanaged<QueueStorage>?
    private let ringStorage: Unmanaged<RingBuffer>?
    let programs: ObjectSlots?
    let innerMaps: InnerMapTable?
    private let otherStorage: Storage?
    let frozenFlag = Atomic<Bool>(false)

    /// The type-specific storage, for code off the hot paths; each owns its memory and releases
    /// it with the map.
    var storage: Storage {
        if let arrayStorage { return .array(arrayStorage.takeUnretainedValue()) }
        if let hashStorage { return .hash(hashStorage.takeUnretainedValue()) }
        if let queueStorage { return .queue(queueStorage.takeUnretainedValue()) }
        if let ringStorage { return .ring(ringStorage.takeUnretainedValue()) }
        if let innerMaps { return .maps(innerMaps) }
        return otherStorage ?? .programs
    }

    enum Storage {
        case array(ArrayStorage)
        case hash(HashStorage)
        case queue(QueueStorage)
        case ring(RingBuffer)
        case programs
        case maps(InnerMapTable)
        case perf(PerfEventBuffers)
        case stacks(StackTraceStorage)
        case cgroups(CgroupSlots)
    }

    /// Creates a map, checking the definition with the kernel's rules.
    public init(_ definition: MapDefinition) throws(MapError) {
        try definition.validate()
        self.definition = definition
        let slots = definition.type.isPerThread ? ThreadSlots.shared.capacity : 1
        let type = definition.type
        arrayStorage = type == .array || type == .perThreadArray
            ? .passRetained(try ArrayStorage(definition, slotCount: slots)) : nil
        hashStorage = type.isHash ? .passRetained(try HashStorage(definition, slotCount: slots)) : nil
        queueStorage = type == .queue || type == .stack ? .passRetained(try QueueStorage(definition)) : nil
        ringStorage = type == .ringBuffer ? .passRetained(try RingBuffer(definition)) : nil
        programs = type == .programArray ? ObjectSlots(capacity: definition.maxEntries) : nil
        innerMaps = type.holdsMaps ? try InnerMapTable(definition) : nil
        switch type {
        case .perfEventArray: otherStorage = .perf(PerfEventBuffers(definition))
        case .stackTrace: otherStorage = .stacks(try StackTraceStorage(definition))
        case .cgroupArray: otherStorage = .cgroups(CgroupSlots(count: definition.maxEntries))
        default: otherStorage = nil
        }
    }

    deinit {
        arrayStorage?.release()
        hashStorage?.release()
        queueStorage?.release()
        ringStorage?.release()
    }

    func fail(_ reason: MapError.Reason) -> MapError { MapError(mapName: definition.name, reason: reason) }

    func unsupported(_ operation: String, instead: String? = nil) -> MapError {
        fail(.unsupportedOperation("\(operation) is not supported on a \(definition.type.name) map"
            + (instead.map { "; use \($0)" } ?? "")))
    }

    // MARK: - Identity for helpers

    /// The pointer programs hold for this map: `Unmanaged.passUnretained(self).toOpaque()`.
    /// It does not keep the map alive.
    public var opaquePointer: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The map behind a pointer made by ``opaquePointer`` (no retain is taken over).
    @inline(__always)
    public static func fromOpaque(_ pointer: UnsafeRawPointer) -> Map {
        Unmanaged<Map>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// ``lookup(key:)`` on the map behind an opaque pointer, without reference counting: the
    /// fastest form for `map_lookup_elem`.
    @inline(__always)
    public static func lookup(_ map: UnsafeRawPointer, key: UnsafeRawPointer) -> UnsafeMutableRawPointer? {
        Unmanaged<Map>.fromOpaque(map)._withUnsafeGuaranteedRef { $0.lookup(key: key) }
    }

    // MARK: - Properties

    /// `BPF_F_RDONLY_PROG`: programs may read values but not write them.
    public var isReadOnlyForPrograms: Bool { definition.flags & MapDefinition.readOnlyForPrograms != 0 }

    /// `BPF_F_WRONLY_PROG`: programs may write values but not read them (the verifier enforces it).
    public var isWriteOnlyForPrograms: Bool { definition.flags & MapDefinition.writeOnlyForPrograms != 0 }

    /// How many copies of each value a per-thread map holds (the same for every map).
    public static var threadSlotCount: Int { ThreadSlots.shared.capacity }

    /// The calling thread's slot in per-thread maps (assigned on first use): the user-space
    /// analogue of `bpf_get_smp_processor_id()`.
    public static var currentThreadSlot: Int { ThreadSlots.shared.current }

    /// Memory ranges holding value storage, with whether programs may write them (for hosts
    /// that inspect where values live; checked mode bounds each pointer by the one value it
    /// points into, never by these ranges). Values of arrays and hash maps
    /// (writable unless `BPF_F_RDONLY_PROG`), the data area of a ring buffer (both mappings);
    /// none for the other types, whose values programs never point into.
    public var valueRegions: [MemoryRegion] {
        let writable = !isReadOnlyForPrograms
        switch storage {
        case .array(let array):
            return [MemoryRegion(start: UInt(bitPattern: array.values), count: array.totalSize, isWritable: writable)]
        case .hash(let hash):
            return [MemoryRegion(start: UInt(bitPattern: hash.values), count: hash.valuesSize, isWritable: writable)]
        case .ring(let ring):
            return [MemoryRegion(start: UInt(bitPattern: ring.data), count: 2 * ring.size, isWritable: true)]
        case .queue, .programs, .maps, .perf, .stacks, .cgroups:
            return []
        }
    }

    /// Where the values of a plain array live, for engines that inline array lookups (and for
    /// global data, whose single value programs address directly); nil for other types.
    public var arrayLayout: ArrayLayout? {
        guard case .array(let array) = storage, !array.isPerThread else { return nil }
        return ArrayLayout(values: array.values, valueStride: array.stride, maxEntries: array.maxEntries)
    }

    // MARK: - Helper interface (raw pointers)

    /// `map_lookup_elem`: a pointer to the value of the `key_size` bytes at `key` (this thread's
    /// copy for per-thread maps), or nil when absent, out of range, or the type has no lookup
    /// (queue, stack, ring buffer, program array, perf event array, stack trace, cgroup array).
    /// LRU maps mark the entry recently used. For an array or hash of maps it is the inner map's
    /// own pointer (``opaquePointer``), which programs pass to map helpers.
    @inline(__always)
    public func lookup(key: UnsafeRawPointer) -> UnsafeMutableRawPointer? {
        if let arrayStorage { return arrayStorage._withUnsafeGuaranteedRef { $0.lookup(key) } }
        if let hashStorage { return hashStorage._withUnsafeGuaranteedRef { $0.lookup(key) } }
        if let innerMaps { return innerMaps.lookup(key) }
        return nil
    }

    /// Where the values of a plain array map lie (one copy: `count` slots of `stride` bytes
    /// from `base`, which never move), for an engine that compiles this map's lookups inline;
    /// nil for every other map type (per-thread arrays included).
    package var arrayValues: (base: UnsafeMutableRawPointer, stride: Int, count: Int)? {
        guard definition.type == .array, let storage = arrayStorage?.takeUnretainedValue(), !storage.isPerThread
        else { return nil }
        return (storage.values, storage.stride, storage.maxEntries)
    }

    /// `map_lookup_percpu_elem`: the value of `key` in thread slot `threadSlot` of a per-thread
    /// map (slot 0 of other arrays and hash maps), or nil.
    public func lookup(key: UnsafeRawPointer, threadSlot: Int) -> UnsafeMutableRawPointer? {
        if let arrayStorage { return arrayStorage._withUnsafeGuaranteedRef { $0.lookup(key, slot: threadSlot) } }
        if let hashStorage { return hashStorage._withUnsafeGuaranteedRef { $0.lookup(key, slot: threadSlot) } }
        return nil
    }

    /// `map_update_elem` from a program: `flags` is `BPF_ANY`, `BPF_NOEXIST` or `BPF_EXIST`
    /// (anything else, including `BPF_F_LOCK`, is `-EINVAL`). Per-thread maps write the calling
    /// thread's copy (a new hash entry starts zeroed in the other copies).
    public func update(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64) throws(MapError) {
        if isReadOnlyForPrograms { throw fail(.readOnly("programs may not write a BPF_F_RDONLY_PROG map")) }
        try write(key: key, value: value, flags: flags, copies: .currentThread)
    }

    func write(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64, copies: ValueWrite) throws(MapError) {
        do throws(MapError.Reason) {
            // `_withUnsafeGuaranteedRef` only rethrows untyped errors: pass the reason out instead.
            if let arrayStorage {
                let failure = arrayStorage._withUnsafeGuaranteedRef { array -> MapError.Reason? in
                    do throws(MapError.Reason) { try array.update(key, value, flags: flags, write: copies) } catch {
                        return error
                    }
                    return nil
                }
                if let failure { throw failure }
                return
            }
            if let hashStorage {
                let failure = hashStorage._withUnsafeGuaranteedRef { hash -> MapError.Reason? in
                    do throws(MapError.Reason) { try hash.update(key, value, flags: flags, write: copies) } catch {
                        return error
                    }
                    return nil
                }
                if let failure { throw failure }
                return
            }
            switch storage {
            case .queue: throw unsupported("update", instead: "map_push_elem").reason
            case .ring: throw unsupported("update", instead: "ringbuf_output or ringbuf_reserve").reason
            case .maps: throw unsupported("update from a program", instead: "setInnerMap(_:forKey:) from the host").reason
            case .perf: throw unsupported("update", instead: "perf_event_output").reason
            case .stacks: throw unsupported("update", instead: "get_stackid").reason
            case .cgroups: throw unsupported("update from a program", instead: "setCgroup(_:at:) from the host").reason
            default: throw unsupported("update from a program", instead: "setProgram(_:at:) from the host").reason
            }
        } catch {
            throw fail(error)
        }
    }

    /// `map_delete_elem`: removes the entry (`-ENOENT` when absent). Arrays cannot delete
    /// (`-EINVAL`); a program array empties the slot.
    public func delete(key: UnsafeRawPointer) throws(MapError) {
        if let hashStorage {
            let failure = hashStorage._withUnsafeGuaranteedRef { hash -> MapError.Reason? in
                do throws(MapError.Reason) { try hash.delete(key) } catch { return error }
                return nil
            }
            if let failure { throw fail(failure) }
            return
        }
        switch storage {
        case .hash:
            break
        case .programs:
            try removeProgram(at: key.loadUnaligned(as: UInt32.self))
        case .array: throw unsupported("delete", instead: "update to overwrite the value")
        case .queue: throw unsupported("delete", instead: "map_pop_elem")
        case .ring, .perf: throw unsupported("delete")
        // Programs may only look these up (the kernel's verifier allows nothing else on them);
        // the host deletes through `delete(_:)`.
        case .maps, .stacks, .cgroups: throw unsupported("delete from a program")
        }
    }

    /// `map_push_elem` on a queue or stack: flags 0, or `BPF_EXIST` to overwrite the oldest
    /// element when full (else `-E2BIG`).
    public func push(value: UnsafeRawPointer, flags: UInt64) throws(MapError) {
        guard case .queue(let queue) = storage else { throw unsupported("push", instead: "update") }
        do throws(MapError.Reason) { try queue.push(value, flags: flags) } catch { throw fail(error) }
    }

    /// `map_pop_elem`: copies out and removes the oldest (queue) or newest (stack) element;
    /// `-ENOENT` when empty.
    public func pop(into value: UnsafeMutableRawPointer) throws(MapError) {
        guard case .queue(let queue) = storage else { throw unsupported("pop", instead: "lookup and delete") }
        do throws(MapError.Reason) { try queue.take(into: value, remove: true) } catch { throw fail(error) }
    }

    /// `map_peek_elem`: copies out the element ``pop(into:)`` would remove, leaving it.
    public func peek(into value: UnsafeMutableRawPointer) throws(MapError) {
        guard case .queue(let queue) = storage else { throw unsupported("peek", instead: "lookup") }
        do throws(MapError.Reason) { try queue.take(into: value, remove: false) } catch { throw fail(error) }
    }
}

/// Where a plain array map keeps its values: value `i` is at `values + i × valueStride`.
///
/// The memory never moves while the map lives; the stride is `value_size` rounded up to 8.
public struct ArrayLayout: @unchecked Sendable {
    public let values: UnsafeMutableRawPointer
    public let valueStride: Int
    public let maxEntries: Int
}

extension Map: CustomStringConvertible {
    /// A summary in the style of `bpftool map show`:
    /// `hash  name counts  flags 0x0  key 4B  value 8B  max_entries 1024`.
    public var description: String {
        "\(definition.type.name)  name \(definition.name)  flags 0x\(String(definition.flags, radix: 16))"
            + "  key \(definition.keySize)B  value \(definition.valueSize)B  max_entries \(definition.maxEntries)"
    }
}
