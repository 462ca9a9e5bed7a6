/// Perf event array operations (`BPF_MAP_TYPE_PERF_EVENT_ARRAY`; see `PerfEventBuffers`).
extension Map {
    private var perfBuffers: PerfEventBuffers? {
        if case .perf(let buffers) = storage { buffers } else { nil }
    }

    /// `BPF_F_CURRENT_CPU`: the index that names the calling thread's buffer.
    public static let currentCPU: UInt64 = 0xffff_ffff

    /// `bpf_perf_event_output`: copies `size` bytes into buffer `flags & 0xffffffff`
    /// (``currentCPU``: the calling thread's slot). `-EINVAL` for other flag bits or another map
    /// type, `-E2BIG` past `max_entries` or for a record that is too large, `-ENOSPC` when the
    /// buffer is full (the record is lost and counted).
    public func perfEventOutput(_ data: UnsafeRawPointer, size: Int, flags: UInt64) throws(MapError) {
        guard let buffers = perfBuffers else { throw unsupported("perf_event_output", instead: "a perf_event_array map") }
        guard flags >> 32 == 0 else {
            throw fail(.invalidFlags(flags, expected: "an index, or BPF_F_CURRENT_CPU (0xffffffff)"))
        }
        let index = flags == Self.currentCPU ? ThreadSlots.shared.current : Int(flags)
        do throws(MapError.Reason) { try buffers.output(data, size: size, index: index) } catch { throw fail(error) }
    }

    /// Host side: hands every record to `handler`, buffer by buffer and in order within each
    /// (the bytes are valid only during the call), then each buffer's lost records, as libbpf's
    /// `perf_buffer__consume` calls its sample and lost callbacks; returns how many records it
    /// handed over (0 for other map types).
    @discardableResult
    public func consumePerfEvents(_ handler: (PerfEvent) -> Void) -> Int {
        perfBuffers?.consume(handler) ?? 0
    }

    /// Host side: every record, copied, with the buffer it came from (see ``consumePerfEvents(_:)``).
    public func consumeAllPerfRecords() -> [(slot: Int, data: [UInt8])] {
        var records: [(slot: Int, data: [UInt8])] = []
        consumePerfEvents { event in
            if case .sample(let slot, let data) = event { records.append((slot, Array(data))) }
        }
        return records
    }
}
