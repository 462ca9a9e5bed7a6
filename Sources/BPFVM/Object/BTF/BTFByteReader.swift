/// Bounds-checked reads of little- or big-endian integers from a byte array. Callers check
/// lengths first; a read past the end yields 0 instead of trapping, so no input can crash.
struct BTFByteReader {
    let bytes: [UInt8]
    let isBigEndian: Bool

    var count: Int { bytes.count }

    func u8(_ offset: Int) -> UInt8 {
        offset >= 0 && offset < bytes.count ? bytes[offset] : 0
    }

    func u16(_ offset: Int) -> UInt16 {
        guard offset >= 0, offset <= bytes.count - 2 else { return 0 }
        let a = UInt16(bytes[offset]), b = UInt16(bytes[offset + 1])
        return isBigEndian ? a << 8 | b : b << 8 | a
    }

    func u32(_ offset: Int) -> UInt32 {
        guard offset >= 0, offset <= bytes.count - 4 else { return 0 }
        let b0 = UInt32(bytes[offset]), b1 = UInt32(bytes[offset + 1])
        let b2 = UInt32(bytes[offset + 2]), b3 = UInt32(bytes[offset + 3])
        return isBigEndian ? b0 << 24 | b1 << 16 | b2 << 8 | b3 : b3 << 24 | b2 << 16 | b1 << 8 | b0
    }

    /// The byte order a BTF or BTF.ext magic reveals, or nil if `magic` bytes are not `0xeb9f`.
    static func byteOrder(ofMagicAt offset: Int, in bytes: [UInt8]) -> Bool? {
        guard offset >= 0, offset + 2 <= bytes.count else { return nil }
        switch (bytes[offset], bytes[offset + 1]) {
        case (0x9f, 0xeb): return false
        case (0xeb, 0x9f): return true
        default: return nil
        }
    }
}
