#if canImport(Glibc)
import Glibc
#endif
import CJITSupport

/// Pages of machine code, near the host's code and never writable and executable at once:
/// taken read+write from `CodePages`, filled, then turned read+execute. Placed within ±2 GiB
/// of every address the code calls (the host's helpers), so that it reaches them with
/// `call rel32`. When the last program using it goes away, its exception table is
/// unregistered and its pages go back to `CodePages`, read+write again.
package final class ExecutableMemory: @unchecked Sendable {
    /// The first byte of the code.
    package let base: UnsafeRawPointer
    /// The pages it takes.
    private let pages: Int
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

    /// Takes `size` bytes within ±2 GiB of every address in `near` (anywhere when `near` is
    /// empty), lets `write` fill them given the address the code will run at, then makes them
    /// read+execute and registers `faults` (unsorted) for the signal handler.
    package init(size: Int, near targets: [UInt64], faults: [bpf_jit_fault_entry],
                 write: (UnsafeMutableRawPointer, UInt64) throws -> Void) throws(Failure)
    {
        let pageSize = CodePages.pageSize
        let pages = max(1, (size + pageSize - 1) / pageSize)
        let memory = try CodePages.shared.take(pages, near: targets)
        do {
            try write(memory, UInt64(UInt(bitPattern: memory)))
        } catch {
            CodePages.shared.give(memory, pages: pages)
            throw .writer(error)
        }
        (memory + size).initializeMemory(as: UInt8.self, repeating: 0xcc, count: pages * pageSize - size)
        guard mprotect(memory, pages * pageSize, PROT_READ | PROT_EXEC) == 0 else {
            let code = errno
            CodePages.shared.give(memory, pages: pages)
            throw .system(call: "mprotect", errno: code)
        }
        var table: UnsafeMutableBufferPointer<bpf_jit_fault_entry>? = nil
        var slot: Int32 = -1
        if !faults.isEmpty {
            let status = bpf_jit_faults_install()
            if status != 0 {
                CodePages.shared.give(memory, pages: pages)
                throw .system(call: "sigaction", errno: status)
            }
            let entries = UnsafeMutableBufferPointer<bpf_jit_fault_entry>.allocate(capacity: faults.count)
            _ = entries.initialize(from: faults.sorted { $0.fault_offset < $1.fault_offset })
            let start = UInt(bitPattern: memory)
            slot = bpf_jit_faults_register(start, start + UInt(size), entries.baseAddress, UInt32(faults.count))
            if slot < 0 {
                entries.deallocate()
                CodePages.shared.give(memory, pages: pages)
                throw .tooManyFaultTables
            }
            table = entries
        }
        self.base = UnsafeRawPointer(memory)
        self.pages = pages
        self.codeSize = size
        self.faultTable = table
        self.faultSlot = slot
    }

    deinit {
        if let faultTable {
            bpf_jit_faults_unregister(faultSlot)
            faultTable.deallocate()
        }
        CodePages.shared.give(UnsafeMutableRawPointer(mutating: base), pages: pages)
    }

    /// The code's bytes (for dumps and tests).
    package var bytes: [UInt8] { Array(UnsafeRawBufferPointer(start: base, count: codeSize)) }
}
