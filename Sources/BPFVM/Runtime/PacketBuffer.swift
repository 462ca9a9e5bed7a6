#if canImport(Glibc)
import Glibc
#endif

/// Packet memory for test runs of XDP programs, mapped below 4 GiB so that the 32-bit `data`
/// and `data_end` fields of the kernel's `struct xdp_md` can hold its real addresses: a program
/// that does `(void *)(long)ctx->data` then gets a usable pointer, with no rewriting of its
/// context loads. The buffer is unmapped when the value is dropped.
final class PacketBuffer {
    let bytes: UnsafeMutableRawBufferPointer
    private let mappedSize: Int

    /// A copy of `packet` in 32-bit-addressable memory, or nil if no such memory can be had.
    init?(_ packet: [UInt8]) {
        let size = max(4096, (packet.count + 4095) & ~4095)
        guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0),
              memory != UnsafeMutableRawPointer(bitPattern: -1), UInt(bitPattern: memory) + UInt(size) <= 1 << 32
        else { return nil }
        mappedSize = size
        bytes = UnsafeMutableRawBufferPointer(start: memory, count: packet.count)
        packet.withUnsafeBytes { bytes.copyMemory(from: $0) }
    }

    deinit { munmap(bytes.baseAddress, mappedSize) }

    /// The 32-bit address of byte `offset`.
    func address(_ offset: Int) -> UInt32 { UInt32(UInt(bitPattern: bytes.baseAddress) + UInt(offset)) }
}
