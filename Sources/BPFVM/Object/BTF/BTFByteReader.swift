/// Bounds-checked reads of little- or big-endian integers from a byte array. Callers check
/// lengths first; a read past the end yields 0 instead of trapping, so no input can crash.
struct BTFByteReader: Sendable {
    let bytes: [UInt8]
    let isBigEndian: Bool

    var count: Int { bytes.count }

    func u8(_ offset: Int) -> UInt8 {
        offset >= 0 && offset < bytes.count ? bytes[offset] : 0
    }

    func u16(_ offset: Int) -> UInt16 {
        guard offset >= 0, offset <= bytes.count - 2 else { return 0 }
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt16.self) }
        return isBigEndian ? UInt16(bigEndian: value) : UInt16(littleEndian: value)
    }

    @inline(__always)
    func u32(_ offset: Int) -> UInt32 {
        bytes.withUnsafeBytes { BTFBorrowedReader(bytes: $0, isBigEndian: isBigEndian).u32(offset) }
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

/// A STRUCT or UNION member as stored, without its name's text.
struct BTFRawMember {
    let nameOffset: UInt32
    let type: UInt32
    let bitOffset: Int
    let bitfieldSize: Int
}

/// Reads 32-bit words of BTF data in its byte order; what the readers of stored records share.
protocol BTFWordReader {
    /// The word at `offset`, or 0 past the end (callers check lengths first).
    func u32(_ offset: Int) -> UInt32
}

extension BTFByteReader: BTFWordReader {}

/// BTF data borrowed for the duration of one pass over it (the decoder's checks): the same reads as
/// ``BTFByteReader`` without a reference to count each time a record is read.
struct BTFBorrowedReader: BTFWordReader {
    let bytes: UnsafeRawBufferPointer
    let isBigEndian: Bool

    @inline(__always)
    func u32(_ offset: Int) -> UInt32 {
        guard offset >= 0, offset <= bytes.count - 4 else { return 0 }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return isBigEndian ? UInt32(bigEndian: value) : UInt32(littleEndian: value)
    }
}

// MARK: Stored components (the one place their layout is written down)

extension BTFWordReader {
    /// Member `index` of a STRUCT or UNION whose components start at `data`: name offset, type, and the offset
    /// word read as `kind_flag` says (bit offset in the low 24 bits and bitfield size in the high 8, or all bits).
    @inline(__always)
    func member(data: Int, index: Int, kindFlag: Bool) -> BTFRawMember {
        let base = data + index * 12
        let word = u32(base + 8)
        return BTFRawMember(nameOffset: u32(base), type: u32(base + 4),
                            bitOffset: kindFlag ? Int(word & 0xff_ffff) : Int(word),
                            bitfieldSize: kindFlag ? Int(word >> 24) : 0)
    }

    /// Enumerator `index` of an ENUM (8 bytes each, a 32-bit value sign- or zero-extended) or an ENUM64
    /// (12 bytes each, the low then high 32 bits).
    func enumerator(data: Int, index: Int, is64: Bool, isSigned: Bool) -> (nameOffset: UInt32, value: Int64) {
        let base = data + index * (is64 ? 12 : 8)
        let low = u32(base + 4)
        let value = is64 ? Int64(bitPattern: UInt64(u32(base + 8)) << 32 | UInt64(low))
            : isSigned ? Int64(Int32(bitPattern: low)) : Int64(low)
        return (u32(base), value)
    }

    /// Parameter `index` of a FUNC_PROTO: name offset and type.
    @inline(__always)
    func parameter(data: Int, index: Int) -> (nameOffset: UInt32, type: UInt32) {
        (u32(data + index * 8), u32(data + index * 8 + 4))
    }

    /// Entry `index` of a DATASEC: the VAR or FUNC, its offset and size.
    @inline(__always)
    func entry(data: Int, index: Int) -> (type: UInt32, offset: Int, size: Int) {
        let base = data + index * 12
        return (u32(base), Int(u32(base + 4)), Int(u32(base + 8)))
    }
}
