import Atomics
#if canImport(Glibc)
import Glibc
#endif

/// The storage of a ring buffer map, laid out and operated as the kernel's `BPF_MAP_TYPE_RINGBUF`.
///
/// Layout: a consumer page (consumer position, consumer lock, a magic word), a producer page
/// (producer position, producer lock), then the data area mapped twice back to back (a `memfd`
/// mapped at two addresses), so that a record that wraps past the end is still contiguous.
/// Each record starts with an 8-byte header: `u32` length with the busy (bit 31) and discard
/// (bit 30) bits, and `u32` the page offset of the header from the start of the mapping, from
/// which submit and discard find the ring, as the kernel does. Records take
/// `round_up(size + 8, 8)` bytes; the producer may run at most `size - 1` bytes ahead of the
/// consumer. Producers serialise on a spin lock; submit and discard only flip the header
/// atomically; the consumer stops at the first busy record and releases space as it goes.
final class RingBuffer {
    static let busyBit: UInt32 = 1 << 31
    static let discardBit: UInt32 = 1 << 30
    static let headerSize = 8
    /// The largest record (the kernel's `RINGBUF_MAX_RECORD_SZ`).
    static let maximumRecordSize = Int(UInt32.max / 4)

    private static let consumerPositionOffset = 0
    private static let consumerLockOffset = 64
    private static let magicOffset = 128
    private static let magic: UInt64 = 0x4250_465F_5249_4E47  // "BPF_RING"

    let base: UnsafeMutableRawPointer
    let data: UnsafeMutableRawPointer
    let size: Int
    let mappingSize: Int

    private var consumerPosition: UnsafeAtomic<UInt64> { atomicDoubleWord(base + Self.consumerPositionOffset) }
    private var consumerLock: SpinLock { SpinLock(base + Self.consumerLockOffset) }
    private var producerPosition: UnsafeAtomic<UInt64> { atomicDoubleWord(base + StableMemory.pageSize) }
    private var producerLock: SpinLock { SpinLock(base + StableMemory.pageSize + 64) }

    /// Maps a ring of `definition.maxEntries` data bytes (validated: a power-of-two number of pages).
    init(_ definition: MapDefinition) throws(MapError) {
        let page = StableMemory.pageSize
        let size = definition.maxEntries
        let mappingSize = 2 * page + 2 * size
        let failure = MapError(mapName: definition.name, reason: .outOfMemory(bytes: mappingSize))
        let fd = Self.anonymousFile()
        guard fd >= 0 else { throw failure }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw failure }
        let failed = UnsafeMutableRawPointer(bitPattern: -1)
        guard let base = mmap(nil, mappingSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              base != failed
        else { throw failure }
        let control = mmap(base, 2 * page, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        let first = mmap(base + 2 * page, size, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_SHARED, fd, 0)
        let second = mmap(base + 2 * page + size, size, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_SHARED, fd, 0)
        guard control == base, first == base + 2 * page, second == base + 2 * page + size else {
            munmap(base, mappingSize)
            throw failure
        }
        base.storeBytes(of: Self.magic, toByteOffset: Self.magicOffset, as: UInt64.self)
        self.base = base
        data = base + 2 * page
        self.size = size
        self.mappingSize = mappingSize
    }

    deinit { munmap(base, mappingSize) }

    /// A file descriptor for shared anonymous memory: `memfd_create` (looked up at run time,
    /// as Glibc's Swift overlay does not export it), else a POSIX shared memory object that is
    /// unlinked at once.
    private static func anonymousFile() -> Int32 {
        typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>?, UInt32) -> Int32
        if let symbol = dlsym(nil, "memfd_create") {
            let memfdCreate = unsafeBitCast(symbol, to: MemfdCreate.self)
            let fd = memfdCreate("bpf-ringbuf", 1)  // MFD_CLOEXEC
            if fd >= 0 { return fd }
        }
        let path = "/bpf-ringbuf-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 { shm_unlink(path) }
        return fd
    }

    // MARK: - Producer side

    /// `bpf_ringbuf_reserve`: room for `size` bytes, or nil when the flags are not 0, the
    /// record cannot fit in the ring, or the ring has no room now.
    func reserve(_ size: Int, flags: UInt64) -> UnsafeMutableRawPointer? {
        guard flags == 0, size >= 0, size <= Self.maximumRecordSize else { return nil }
        let length = roundUp(size + Self.headerSize, to: 8)
        guard length <= self.size else { return nil }
        let mask = UInt64(self.size - 1)
        let lock = producerLock
        lock.lock()
        defer { lock.unlock() }
        let consumer = consumerPosition.load(ordering: .acquiring)
        let producer = producerPosition.load(ordering: .relaxed)
        let newProducer = producer &+ UInt64(length)
        guard newProducer &- consumer <= mask else { return nil }
        let header = data + Int(producer & mask)
        let pageOffset = UInt32((header - base) / StableMemory.pageSize)
        header.storeBytes(of: pageOffset, toByteOffset: 4, as: UInt32.self)
        atomicWord(header).store(UInt32(size) | Self.busyBit, ordering: .relaxed)
        producerPosition.store(newProducer, ordering: .releasing)
        return header + Self.headerSize
    }

    /// `bpf_ringbuf_submit` / `bpf_ringbuf_discard`: clears the busy bit of the record at
    /// `sample` (setting the discard bit for a discard), so the consumer may take it. A record
    /// that is not busy (already submitted or discarded) is left alone. Engines hand only
    /// records a run reserved and still holds (checked mode tracks them; the verifier proves it).
    static func commit(_ sample: UnsafeMutableRawPointer, discard: Bool) {
        let header = sample - headerSize
        let word = atomicWord(header)
        let current = word.load(ordering: .relaxed)
        guard current & busyBit != 0 else { return }
        var length = current & ~busyBit
        if discard { length |= discardBit }
        word.store(length, ordering: .releasing)
    }

    /// The start of the ring's mapping, found from a record header's page offset.
    static func ring(of header: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        let page = UInt(StableMemory.pageSize)
        let pageOffset = UInt(header.load(fromByteOffset: 4, as: UInt32.self))
        let start = (UInt(bitPattern: header) & ~(page - 1)) - pageOffset * page
        return UnsafeMutableRawPointer(bitPattern: start)!
    }

    /// `bpf_ringbuf_output`: reserve, copy and submit in one step.
    func output(_ source: UnsafeRawPointer, size: Int, flags: UInt64) throws(MapError.Reason) {
        guard flags & ~3 == 0 else {
            throw .invalidFlags(flags, expected: "0, BPF_RB_NO_WAKEUP (1) or BPF_RB_FORCE_WAKEUP (2)")
        }
        guard let sample = reserve(size, flags: 0) else { throw .noSpace(requested: size) }
        sample.copyMemory(from: source, byteCount: size)
        Self.commit(sample, discard: false)
    }

    /// `bpf_ringbuf_query`: `BPF_RB_AVAIL_DATA` (0), `BPF_RB_RING_SIZE` (1), `BPF_RB_CONS_POS`
    /// (2), `BPF_RB_PROD_POS` (3); 0 for anything else.
    func query(_ flag: UInt64) -> UInt64 {
        switch flag {
        case 0:
            let consumer = consumerPosition.load(ordering: .acquiring)
            return producerPosition.load(ordering: .acquiring) &- consumer
        case 1: return UInt64(size)
        case 2: return consumerPosition.load(ordering: .acquiring)
        case 3: return producerPosition.load(ordering: .acquiring)
        default: return 0
        }
    }

    // MARK: - Consumer side

    /// How many times the consumer found a header it could not trust and dropped the data
    /// behind it.
    private let corruptions = ManagedAtomic<Int>(0)

    /// How many corrupt headers the consumer has met (see ``consume(_:)``).
    var corruptHeaderCount: Int { corruptions.load(ordering: .relaxed) }

    /// Hands every submitted record to `handler` in order, skipping discarded ones and stopping
    /// at the first record still being written; returns how many records it handed over.
    /// Consumers are serialised, so `handler` must not consume this ring itself.
    ///
    /// Headers live in memory a program could write, so none is trusted: a record is handed
    /// over only when its length fits between the consumer and the producer position and its
    /// page-offset word is the one reserve wrote. A header that fails either test means the
    /// ring's contents cannot be followed any further: everything up to the producer position
    /// is dropped and counted in ``corruptHeaderCount``, and the ring stays usable.
    func consume(_ handler: (UnsafeRawBufferPointer) -> Void) -> Int {
        let lock = consumerLock
        lock.lock()
        defer { lock.unlock() }
        let mask = UInt64(size - 1)
        var consumer = consumerPosition.load(ordering: .relaxed)
        var delivered = 0
        while true {
            let producer = producerPosition.load(ordering: .acquiring)
            guard consumer < producer else { break }
            let header = data + Int(consumer & mask)
            let word = atomicWord(header).load(ordering: .acquiring)
            if word & Self.busyBit != 0 { break }
            let length = Int(word & ~(Self.busyBit | Self.discardBit))
            let pageOffset = UInt32((header - base) / StableMemory.pageSize)
            guard UInt64(roundUp(length + Self.headerSize, to: 8)) <= producer &- consumer,
                  header.load(fromByteOffset: 4, as: UInt32.self) == pageOffset
            else {
                corruptions.wrappingIncrement(ordering: .relaxed)
                consumer = producer
                consumerPosition.store(consumer, ordering: .releasing)
                break
            }
            if word & Self.discardBit == 0 {
                handler(UnsafeRawBufferPointer(start: header + Self.headerSize, count: length))
                delivered += 1
            }
            consumer &+= UInt64(roundUp(length + Self.headerSize, to: 8))
            consumerPosition.store(consumer, ordering: .releasing)
        }
        return delivered
    }
}
