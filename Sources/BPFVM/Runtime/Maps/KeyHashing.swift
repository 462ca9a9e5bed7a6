/// The hash and comparison of map keys: bytewise, over exactly `keySize` bytes.
enum KeyHashing {
    /// A 32-bit hash of `count` bytes at `key` (any alignment): 8 bytes at a time, each word
    /// mixed by a multiply-xorshift round, finished with the murmur3 64-bit finaliser.
    @inline(__always)
    static func hash(_ key: UnsafeRawPointer, count: Int) -> UInt32 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: count)
        var offset = 0
        while offset + 8 <= count {
            h = mix(h, key.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < count {
            var tail: UInt64 = 0
            if count - offset >= 4 {
                tail = UInt64(key.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                var shift: UInt64 = 32
                for index in (offset + 4)..<count {
                    tail |= UInt64(key.load(fromByteOffset: index, as: UInt8.self)) << shift
                    shift += 8
                }
            } else {
                var shift: UInt64 = 0
                for index in offset..<count {
                    tail |= UInt64(key.load(fromByteOffset: index, as: UInt8.self)) << shift
                    shift += 8
                }
            }
            h = mix(h, tail)
        }
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return UInt32(truncatingIfNeeded: h)
    }

    @inline(__always)
    private static func mix(_ h: UInt64, _ word: UInt64) -> UInt64 {
        var x = (h ^ word) &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 29
        return x
    }

    /// Whether `count` bytes at `a` and `b` are equal.
    @inline(__always)
    static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        switch count {
        case 4: return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
        case 8: return a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self)
        default:
            var offset = 0
            while offset + 8 <= count {
                if a.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                    != b.loadUnaligned(fromByteOffset: offset, as: UInt64.self) { return false }
                offset += 8
            }
            while offset < count {
                if a.load(fromByteOffset: offset, as: UInt8.self) != b.load(fromByteOffset: offset, as: UInt8.self) {
                    return false
                }
                offset += 1
            }
            return true
        }
    }
}
