extension ELFParser {
    /// Decodes NUL-terminated names from string tables, memoising each (table, offset) pair and capping the total
    /// bytes scanned, so that names overlapping in one table cannot cost more than linear time and memory.
    struct NameDecoder {
        private var cache: [Int: [UInt32: String]] = [:]
        private var spent = 0
        let limit: Int

        init(limit: Int) {
            self.limit = limit
        }

        /// The name at `offset` in the string table occupying `table` of `bytes` (section `tableIndex`).
        /// Offset 0 is the empty name, as ELF defines it.
        mutating func name(
            at offset: UInt32, table: Range<Int>, tableIndex: Int, in bytes: [UInt8], location: String
        ) throws(ELFError) -> String {
            if offset == 0 { return "" }
            if let known = cache[tableIndex]?[offset] { return known }
            guard Int(offset) < table.count else {
                throw ELFError(location: location, reason: .nameOutOfRange(
                    offset: UInt64(offset), tableSize: table.count))
            }
            let start = table.lowerBound + Int(offset)
            guard let end = bytes[start..<table.upperBound].firstIndex(of: 0) else {
                throw ELFError(location: location, reason: .unterminatedName(offset: UInt64(offset)))
            }
            spent += end - start + 1
            guard spent <= limit else {
                throw ELFError(location: location, reason: .excessiveNameBytes(limit: limit))
            }
            let name = String(decoding: bytes[start..<end], as: UTF8.self)
            cache[tableIndex, default: [:]][offset] = name
            return name
        }
    }
}
