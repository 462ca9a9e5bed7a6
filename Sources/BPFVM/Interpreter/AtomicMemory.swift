import Atomics

/// The atomic read-modify-write instructions on host memory, sequentially consistent as the
/// kernel's are, so that programs on several threads can share maps.
enum AtomicMemory {
    /// Performs the atomic operation encoded in `imm` on the 32- or 64-bit word at `address` and
    /// returns the old value (zero-extended for 32 bits). `comparand` is r0, used by cmpxchg.
    @inline(__always)
    static func perform(_ imm: Int32, is64: Bool, address: UnsafeMutableRawPointer, operand: UInt64,
                        comparand: UInt64) -> UInt64
    {
        if is64 {
            let atomic = UnsafeAtomic<UInt64>(at: address.assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
            switch imm & ~Opcode.atomicFetch {
            case 0x00: return atomic.loadThenWrappingIncrement(by: operand, ordering: .sequentiallyConsistent)
            case 0x40: return atomic.loadThenBitwiseOr(with: operand, ordering: .sequentiallyConsistent)
            case 0x50: return atomic.loadThenBitwiseAnd(with: operand, ordering: .sequentiallyConsistent)
            case 0xa0: return atomic.loadThenBitwiseXor(with: operand, ordering: .sequentiallyConsistent)
            case 0xe0: return atomic.exchange(operand, ordering: .sequentiallyConsistent)
            default:
                return atomic.compareExchange(expected: comparand, desired: operand, ordering: .sequentiallyConsistent)
                    .original
            }
        }
        let atomic = UnsafeAtomic<UInt32>(at: address.assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
        let value = UInt32(truncatingIfNeeded: operand)
        let old: UInt32
        switch imm & ~Opcode.atomicFetch {
        case 0x00: old = atomic.loadThenWrappingIncrement(by: value, ordering: .sequentiallyConsistent)
        case 0x40: old = atomic.loadThenBitwiseOr(with: value, ordering: .sequentiallyConsistent)
        case 0x50: old = atomic.loadThenBitwiseAnd(with: value, ordering: .sequentiallyConsistent)
        case 0xa0: old = atomic.loadThenBitwiseXor(with: value, ordering: .sequentiallyConsistent)
        case 0xe0: old = atomic.exchange(value, ordering: .sequentiallyConsistent)
        default:
            old = atomic.compareExchange(expected: UInt32(truncatingIfNeeded: comparand), desired: value,
                                         ordering: .sequentiallyConsistent).original
        }
        return UInt64(old)
    }
}
