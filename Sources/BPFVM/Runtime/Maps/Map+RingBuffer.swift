/// Ring buffer operations (`BPF_MAP_TYPE_RINGBUF`); on other map types they do nothing.
extension Map {
    /// `bpf_ringbuf_reserve`: `size` writable bytes in the ring, to hand to ``submit(_:flags:)``
    /// or ``discard(_:flags:)``; nil when `flags` is not 0, the ring is full or this is no ring
    /// buffer. Records are 8-byte aligned behind an 8-byte header, and contiguous even across
    /// the end of the ring.
    public func reserve(size: Int, flags: UInt64) -> UnsafeMutableRawPointer? {
        guard case .ring(let ring) = storage else { return nil }
        return ring.reserve(size, flags: flags)
    }

    /// `bpf_ringbuf_submit`: publishes a reserved record. The ring is found from the record's
    /// header, as in the kernel; the wake-up flags have no effect (consumers poll).
    public static func submit(_ sample: UnsafeMutableRawPointer, flags: UInt64) {
        RingBuffer.commit(sample, discard: false)
    }

    /// `bpf_ringbuf_discard`: drops a reserved record; the consumer skips it.
    public static func discard(_ sample: UnsafeMutableRawPointer, flags: UInt64) {
        RingBuffer.commit(sample, discard: true)
    }

    /// `bpf_ringbuf_output`: copies `size` bytes into a new record. `-EAGAIN` when the ring has
    /// no room, `-EINVAL` for flags other than `BPF_RB_NO_WAKEUP` (1) / `BPF_RB_FORCE_WAKEUP` (2).
    public func output(_ data: UnsafeRawPointer, size: Int, flags: UInt64) throws(MapError) {
        guard case .ring(let ring) = storage else { throw unsupported("ringbuf_output") }
        do throws(MapError.Reason) { try ring.output(data, size: size, flags: flags) } catch { throw fail(error) }
    }

    /// ``output(_:size:flags:)`` from the host, with a byte array.
    public func output(_ bytes: [UInt8], flags: UInt64 = 0) throws(MapError) {
        let failure = bytes.withUnsafeBytes { bytes in
            catching { () throws(MapError) in
                try output(bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, size: bytes.count, flags: flags)
            }
        }
        if let failure { throw failure }
    }

    /// `bpf_ringbuf_query`: `BPF_RB_AVAIL_DATA` (0, bytes not yet consumed), `BPF_RB_RING_SIZE`
    /// (1), `BPF_RB_CONS_POS` (2), `BPF_RB_PROD_POS` (3); 0 for other flags and other maps.
    public func query(_ flag: UInt64) -> UInt64 {
        guard case .ring(let ring) = storage else { return 0 }
        return ring.query(flag)
    }

    /// Host side: hands each submitted record to `handler` in order (the buffer is valid only
    /// during the call), skips discarded ones, stops at the first record still reserved, frees
    /// the space, and returns how many records it handed over. Consumers are serialised, so
    /// `handler` must not consume the same ring.
    @discardableResult
    public func consume(_ handler: (UnsafeRawBufferPointer) -> Void) -> Int {
        guard case .ring(let ring) = storage else { return 0 }
        return ring.consume(handler)
    }

    /// Host side: how many times ``consume(_:)`` met a record header it could not trust (a
    /// program wrote over it) and dropped the unread data behind it; 0 for other maps.
    public var corruptRecordHeaderCount: Int {
        guard case .ring(let ring) = storage else { return 0 }
        return ring.corruptHeaderCount
    }

    /// Host side: every submitted record, copied, in order (see ``consume(_:)``).
    public func consumeAll() -> [[UInt8]] {
        var records: [[UInt8]] = []
        consume { records.append(Array($0)) }
        return records
    }
}
