#if canImport(Glibc)
import Glibc
#endif
import Atomics
import CJITSupport

/// Pages of machine code, mapped near the host's code and never writable and executable at
/// once: they are mapped read+write, filled, then turned read+execute for good. Placed within
/// ±2 GiB of every address the code calls (the host's helpers), so that it reaches them with
/// `call rel32`. Unmapped, and its exception table unregistered, when the last program using
/// it goes away.
package final class ExecutableMemory: @unchecked Sendable {
    /// The first byte of the code.
    package let base: UnsafeRawPointer
    /// The bytes mapped (whole pages).
    package let mappedSize: Int
    /// The bytes of code written (the rest of the last page is `int3`).
    package let codeSize: Int
    /// The exception table of the fault-safe loads (sorted by fault offset), while registered.
    private let faultTable: UnsafeMutableBufferPointer<bpf_jit_fault_entry>?
    private let faultSlot: Int32

    /// What writing the code may fail with, besides the memory itself.
    package enum Failure: Error {
        /// No free address range within ±2 GiB of the targets.
        case noNearRange
        /// The system refused the mapping or the change of protection.
        case system(call: String, errno: Int32)
        /// Every exception table slot is taken.
        case tooManyFaultTables
        /// The writer failed.
        case writer(any Error)
    }

    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// Where the next search for a free range near the host's code starts (downward from the
    /// lowest target), so that programs compiled one after another do not probe the same ranges
    /// (only a hint: racing updates are harmless).
    private static let nextHint = ManagedAtomic<UInt>(0)

    /// Maps `size` bytes within ±2 GiB of every address in `near` (anywhere when `near` is
    /// empty), lets `write` fill them given the address the code will run at, then makes them
    /// read+execute and registers `faults` (unsorted) for the signal handler.
    package init(size: Int, near targets: [UInt64], faults: [bpf_jit_fault_entry],
                 write: (UnsafeMutableRawPointer, UInt64) throws -> Void) throws(Failure)
    {
        let mapped = max(Self.pageSize, (size + Self.pageSize - 1) / Self.pageSize * Self.pageSize)
        let memory = try Self.map(mapped, near: targets)
        do {
            try write(memory, UInt64(UInt(bitPattern: memory)))
        } catch {
            munmap(memory, mapped)
            throw .writer(error)
        }
        (memory + size).initializeMemory(as: UInt8.self, repeating: 0xcc, count: mapped - size)
        guard mprotect(memory, mapped, PROT_READ | PROT_EXEC) == 0 else {
            let code = errno
            munmap(memory, mapped)
            throw .system(call: "mprotect", errno: code)
        }
        var table: UnsafeMutableBufferPointer<bpf_jit_fault_entry>? = nil
        var slot: Int32 = -1
        if !faults.isEmpty {
            let status = bpf_jit_faults_install()
            if status != 0 {
                munmap(memory, mapped)
                throw .system(call: "sigaction", errno: status)
            }
            let entries = UnsafeMutableBufferPointer<bpf_jit_fault_entry>.allocate(capacity: faults.count)
            _ = entries.initialize(from: faults.sorted { $0.fault_offset < $1.fault_offset })
            let start = UInt(bitPattern: memory)
            slot = bpf_jit_faults_register(start, start + UInt(size), entries.baseAddress, UInt32(faults.count))
            if slot < 0 {
                entries.deallocate()
                munmap(memory, mapped)
                throw .tooManyFaultTables
            }
            table = entries
        }
        self.base = UnsafeRawPointer(memory)
        self.mappedSize = mapped
        self.codeSize = size
        self.faultTable = table
        self.faultSlot = slot
    }

    deinit {
        if let faultTable {
            bpf_jit_faults_unregister(faultSlot)
            faultTable.deallocate()
        }
        munmap(UnsafeMutableRawPointer(mutating: base), mappedSize)
    }

    /// The code's bytes (for dumps and tests).
    package var bytes: [UInt8] { Array(UnsafeRawBufferPointer(start: base, count: codeSize)) }

    /// A read+write mapping of `size` bytes within reach of `targets`.
    private static func map(_ size: Int, near targets: [UInt64]) throws(Failure) -> UnsafeMutableRawPointer {
        let failed = UnsafeMutableRawPointer(bitPattern: -1)
        guard let lowest = targets.min(), let highest = targets.max() else {
            guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  memory != failed
            else { throw .system(call: "mmap", errno: errno) }
            return memory
        }
        // Every byte of the mapping must be within reach of every target: [highest - reach, lowest + reach - size).
        let reach: UInt64 = 1 << 31 - (1 << 20)
        let low = highest > reach ? highest - reach : UInt64(pageSize)
        let high = lowest + reach - UInt64(size)
        guard low < high else { throw .noNearRange }
        let step = UInt64(16 << 20)
        let page = UInt64(pageSize)
        var hint = nextHint.load(ordering: .relaxed)
        if hint == 0 || UInt64(hint) < low || UInt64(hint) + UInt64(size) > high {
            hint = UInt((lowest > step ? lowest - step : lowest) & ~(page - 1))
        }
        // Downward from the hint to the bottom of the window, then upward from above the targets.
        var candidates: [UInt64] = []
        var address = UInt64(hint)
        while address >= low && candidates.count < 64 {
            candidates.append(address)
            address = address > step ? address - step : 0
        }
        address = (highest + step) & ~(page - 1)
        while address + UInt64(size) <= high && candidates.count < 128 {
            candidates.append(address)
            address += step
        }
        for candidate in candidates {
            guard let memory = mmap(UnsafeMutableRawPointer(bitPattern: UInt(candidate)), size, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), memory != failed
            else { throw .system(call: "mmap", errno: errno) }
            let start = UInt64(UInt(bitPattern: memory))
            if start >= low && start + UInt64(size) <= high {
                nextHint.store(UInt(start) - UInt(size), ordering: .relaxed)
                return memory
            }
            munmap(memory, size)
        }
        throw .noNearRange
    }
}
