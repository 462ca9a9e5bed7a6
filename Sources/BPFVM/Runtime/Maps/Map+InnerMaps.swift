/// Array-of-maps and hash-of-maps operations (see `InnerMapTable`).
extension Map {
    /// Stores `inner` under `key` of an array or hash of maps (flags as ``update(_:_:flags:)``):
    /// `inner` must fit the outer map's inner-map template. `-EINVAL` for another map type or a
    /// map that does not fit, `-E2BIG` past `max_entries` of an array.
    public func setInnerMap(_ inner: Map, forKey key: [UInt8], flags: UInt64 = 0) throws(MapError) {
        guard let innerMaps else { throw unsupported("setInnerMap", instead: "an array_of_maps or hash_of_maps map") }
        guard key.count == definition.keySize else {
            throw fail(.wrongKeySize(expected: definition.keySize, actual: key.count))
        }
        try checkHostWritable()
        let failure = key.withUnsafeBytes { key -> MapError.Reason? in
            do throws(MapError.Reason) {
                try innerMaps.set(inner, key: key.baseAddress!, flags: flags, outerName: definition.name)
            } catch {
                return error
            }
            return nil
        }
        if let failure { throw fail(failure) }
    }

    /// ``setInnerMap(_:forKey:flags:)`` at index `index` of an array of maps.
    public func setInnerMap(_ inner: Map, at index: UInt32) throws(MapError) {
        try setInnerMap(inner, forKey: Self.bytes(of: index))
    }

    /// The map stored under `key` of an array or hash of maps, or nil.
    public func innerMap(forKey key: [UInt8]) -> Map? {
        guard let innerMaps, key.count == definition.keySize else { return nil }
        return key.withUnsafeBytes { innerMaps.map(for: $0.baseAddress!) }
    }
}
