/// A range of host memory a program may access in checked mode, and whether it may write there.
public struct MemoryRegion: Hashable, Sendable {
    /// The first address of the region.
    public let start: UInt
    /// The length in bytes.
    public let count: Int
    /// Whether stores and atomics are allowed.
    public let isWritable: Bool

    public init(start: UInt, count: Int, isWritable: Bool) {
        self.start = start
        self.count = count
        self.isWritable = isWritable
    }

    /// The region covering a buffer.
    public init(_ buffer: UnsafeRawBufferPointer, isWritable: Bool = false) {
        self.init(start: UInt(bitPattern: buffer.baseAddress), count: buffer.count, isWritable: isWritable)
    }

    /// The region covering a mutable buffer (writable).
    public init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.init(start: UInt(bitPattern: buffer.baseAddress), count: buffer.count, isWritable: true)
    }

    /// Whether `[address, address + size)` lies inside the region.
    @inline(__always)
    func contains(_ address: UInt, size: Int) -> Bool {
        address >= start && address &- start <= UInt(count) && UInt(count) &- (address &- start) >= UInt(size)
    }
}
