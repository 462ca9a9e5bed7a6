import Synchronization

/// The storage of a perf event array (`BPF_MAP_TYPE_PERF_EVENT_ARRAY`) in user space: one
/// record buffer per index, as the kernel has one perf ring per CPU, which the host drains as
/// libbpf's `perf_buffer` does.
///
/// `bpf_perf_event_output` with `BPF_F_CURRENT_CPU` writes into the buffer of the calling
/// thread's slot (the same slot it has in per-thread maps), or into the buffer of the index it
/// names. Each buffer is a ring of ``bufferSize`` bytes, allocated the first time it is written;
/// a record that does not fit is lost and counted (the helper returns `-ENOSPC`), as when a
/// perf ring is full. The host receives each buffer's records in order, with the losses.
final class PerfEventBuffers: @unchecked Sendable {
    /// The bytes of each buffer: 64 pages, what libbpf tools commonly ask `perf_buffer__new` for.
    static let bufferSize = 64 * 4096
    /// The largest record (a perf sample's size is a 16-bit field, with its headers).
    static let maximumRecordSize = 65_528
    private static let headerSize = 8

    let name: String
    let count: Int
    private let rings: ObjectSlots
    private let creation = Mutex<Void>(())

    init(_ definition: MapDefinition) {
        name = definition.name
        count = definition.maxEntries
        rings = ObjectSlots(capacity: definition.maxEntries)
    }

    /// One buffer: a byte ring of records (`u32` size, 4 bytes of padding, the data padded to 8).
    final class Ring: @unchecked Sendable {
        let memory: StableMemory
        struct Positions {
            var head = 0, tail = 0, lost = 0
        }
        let positions = Mutex(Positions())

        init(name: String) throws(MapError) {
            memory = try StableMemory.allocate(PerfEventBuffers.bufferSize, mapName: name)
        }

        deinit { memory.release() }

        /// Copies `count` bytes in at ring position `position`, wrapping at the end.
        func write(_ source: UnsafeRawPointer, count: Int, at position: Int) {
            let offset = position % bufferSize
            let first = min(count, bufferSize - offset)
            (memory.base + offset).copyMemory(from: source, byteCount: first)
            if first < count { memory.base.copyMemory(from: source + first, byteCount: count - first) }
        }

        /// Copies `count` bytes out from ring position `position`, wrapping at the end.
        func read(into destination: UnsafeMutableRawPointer, count: Int, at position: Int) {
            let offset = position % bufferSize
            let first = min(count, bufferSize - offset)
            destination.copyMemory(from: memory.base + offset, byteCount: first)
            if first < count { (destination + first).copyMemory(from: memory.base, byteCount: count - first) }
        }

        var bufferSize: Int { PerfEventBuffers.bufferSize }
    }

    /// The ring of `index`, created on first use.
    private func ring(_ index: Int) throws(MapError) -> Ring {
        if let pointer = rings.pointer(at: index) { return Unmanaged<Ring>.fromOpaque(pointer).takeUnretainedValue() }
        let created = creation.withLock { _ -> Result<Ring, MapError> in
            if let existing = rings.object(at: index) as? Ring { return .success(existing) }
            do throws(MapError) {
                let ring = try Ring(name: name)
                rings.set(ring, at: index)
                return .success(ring)
            } catch {
                return .failure(error)
            }
        }
        switch created {
        case .success(let ring): return ring
        case .failure(let error): throw error
        }
    }

    /// `bpf_perf_event_output` into buffer `index`: `-E2BIG` past `max_entries` or for a record
    /// past ``maximumRecordSize``, `-ENOSPC` (and a loss) when the buffer is full.
    func output(_ data: UnsafeRawPointer, size: Int, index: Int) throws(MapError.Reason) {
        guard index >= 0, index < count else { throw .indexOutOfRange(UInt64(index), maxEntries: count) }
        guard size >= 0, size <= Self.maximumRecordSize else {
            throw .tooLarge("a perf event record holds at most \(Self.maximumRecordSize) bytes (\(size) given)")
        }
        let ring: Ring
        do { ring = try self.ring(index) } catch { throw error.reason }
        let length = roundUp(size + Self.headerSize, to: 8)
        let stored = ring.positions.withLock { positions -> Bool in
            guard positions.head - positions.tail + length <= Self.bufferSize else {
                positions.lost += 1
                return false
            }
            var header = UInt64(UInt32(size))
            ring.write(&header, count: Self.headerSize, at: positions.head)
            ring.write(data, count: size, at: positions.head + Self.headerSize)
            positions.head += length
            return true
        }
        if !stored { throw .bufferFull }
    }

    /// Hands every record of every buffer to `handler` (buffer by buffer, each in order; the
    /// bytes are valid only during the call), then each buffer's losses since the last call;
    /// returns how many records it handed over.
    func consume(_ handler: (PerfEvent) -> Void) -> Int {
        var delivered = 0
        for index in 0..<count {
            guard let object = rings.object(at: index), let ring = object as? Ring else { continue }
            let (records, lost) = ring.positions.withLock { positions -> ([[UInt8]], Int) in
                var records: [[UInt8]] = []
                while positions.tail < positions.head {
                    var header: UInt64 = 0
                    ring.read(into: &header, count: Self.headerSize, at: positions.tail)
                    let size = Int(UInt32(truncatingIfNeeded: header))
                    var record = [UInt8](repeating: 0, count: size)
                    record.withUnsafeMutableBytes { buffer in
                        if size > 0 { ring.read(into: buffer.baseAddress!, count: size, at: positions.tail + Self.headerSize) }
                    }
                    records.append(record)
                    positions.tail += roundUp(size + Self.headerSize, to: 8)
                }
                defer { positions.lost = 0 }
                return (records, positions.lost)
            }
            for record in records {
                record.withUnsafeBytes { handler(.sample(slot: index, data: $0)) }
            }
            if lost > 0 { handler(.lost(slot: index, count: lost)) }
            delivered += records.count
        }
        return delivered
    }

    /// Records not yet consumed, over all buffers.
    var pendingRecordCount: Int {
        var total = 0
        for index in 0..<count {
            guard let ring = rings.object(at: index) as? Ring else { continue }
            total += ring.positions.withLock { positions in
                var count = 0
                var position = positions.tail
                while position < positions.head {
                    var header: UInt64 = 0
                    ring.read(into: &header, count: Self.headerSize, at: position)
                    position += roundUp(Int(UInt32(truncatingIfNeeded: header)) + Self.headerSize, to: 8)
                    count += 1
                }
                return count
            }
        }
        return total
    }
}

/// What the host receives from a perf event array, as libbpf's `perf_buffer` callbacks do.
public enum PerfEvent {
    /// A record written by `bpf_perf_event_output` into buffer `slot` (valid only during the call).
    case sample(slot: Int, data: UnsafeRawBufferPointer)
    /// `count` records that did not fit into buffer `slot` since the last consumption.
    case lost(slot: Int, count: Int)
}
