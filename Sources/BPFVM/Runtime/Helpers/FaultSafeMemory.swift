#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// Copies from arbitrary addresses of this process without ever faulting: a bad address gives
/// `-EFAULT`, the way `bpf_probe_read_*` behaves in the kernel. It reads through
/// `process_vm_readv` on the process itself (see `CSystemShims`), which the kernel checks instead of the CPU.
enum FaultSafeMemory {
    /// Copies `count` bytes from `source` to `destination`; 0 or `-EFAULT`. On failure the
    /// destination is zeroed, as the kernel does.
    static func copy(to destination: UnsafeMutableRawPointer, from source: UInt64, count: Int) -> Int64 {
        if count == 0 { return 0 }
        if bpf_shim_read_own_memory(destination, source, count) == count { return 0 }
        destination.initializeMemory(as: UInt8.self, repeating: 0, count: count)
        return -Int64(EFAULT)
    }

    /// Copies a NUL-terminated string of at most `capacity - 1` bytes plus its NUL; returns the
    /// length including the NUL, or `-EFAULT` (destination zeroed... its first byte at least).
    static func copyString(to destination: UnsafeMutableRawPointer, from source: UInt64, capacity: Int) -> Int64 {
        guard capacity > 0 else { return 0 }
        var copied = 0
        let bytes = destination.assumingMemoryBound(to: UInt8.self)
        // Read in chunks that never cross a page boundary, so that a string ending just before an
        // unmapped page is still read.
        while copied < capacity - 1 {
            let address = source &+ UInt64(copied)
            let toPageEnd = 4096 - Int(address % 4096)
            let chunk = min(toPageEnd, capacity - 1 - copied)
            if copy(to: destination + copied, from: address, count: chunk) != 0 {
                if copied == 0 {
                    bytes[0] = 0
                    return -Int64(EFAULT)
                }
                break
            }
            if let end = (copied..<(copied + chunk)).first(where: { bytes[$0] == 0 }) {
                return Int64(end + 1)
            }
            copied += chunk
        }
        bytes[copied] = 0
        return Int64(copied + 1)
    }

    /// The string at `address` (at most `limit` bytes), or nil if it cannot be read.
    static func string(at address: UInt64, limit: Int = 256) -> String? {
        var buffer = [UInt8](repeating: 0, count: limit + 1)
        let length = buffer.withUnsafeMutableBytes { copyString(to: $0.baseAddress!, from: address, capacity: limit + 1) }
        guard length > 0 else { return nil }
        return String(decoding: buffer.prefix(Int(length) - 1), as: UTF8.self)
    }
}
