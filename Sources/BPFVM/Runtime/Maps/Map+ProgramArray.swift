/// Program array operations (`BPF_MAP_TYPE_PROG_ARRAY`), for tail calls.
///
/// The map's 4-byte values name program slots; the runtime stores the program objects
/// themselves. The map keeps every program it ever held alive until ``removeAllPrograms()``
/// (so tail calls can read slots without locks), which also breaks the reference cycle of a
/// program whose own program array holds it.
extension Map {
    /// Stores `program` at `index` (nil empties the slot). `-E2BIG` past `max_entries`,
    /// `-EINVAL` on other map types.
    public func setProgram(_ program: AnyObject?, at index: Int) throws(MapError) {
        guard let programs else { throw unsupported("setProgram", instead: "a prog_array map") }
        guard index >= 0, index < programs.capacity else {
            throw fail(.indexOutOfRange(UInt64(bitPattern: Int64(index)), maxEntries: programs.capacity))
        }
        try checkHostWritable()
        programs.set(program, at: index)
    }

    /// The program at `index`, or nil (empty, out of range, or not a program array).
    public func program(at index: Int) -> AnyObject? {
        guard let programs, index >= 0, index < programs.capacity else { return nil }
        return programs.object(at: index)
    }

    /// The program at `index` as an unretained pointer, read without a lock: for engines that
    /// perform tail calls. Valid while the map lives and until ``removeAllPrograms()``.
    @inline(__always)
    public func programPointer(at index: UInt32) -> UnsafeRawPointer? {
        guard let programs, Int(index) < programs.capacity else { return nil }
        return programs.pointer(at: Int(index))
    }

    /// Empties every slot and releases every program the map held. Call it only while no
    /// program that tail-calls through this map runs.
    public func removeAllPrograms() {
        programs?.removeAll()
    }

    /// `map_delete_elem` on a program array: `-E2BIG` past the end, `-ENOENT` when empty.
    func removeProgram(at index: UInt32) throws(MapError) {
        guard let programs else { throw unsupported("removeProgram") }
        guard Int(index) < programs.capacity else {
            throw fail(.indexOutOfRange(UInt64(index), maxEntries: programs.capacity))
        }
        if !programs.set(nil, at: Int(index)) { throw fail(.noSuchKey) }
    }
}
