#if canImport(Glibc)
import Glibc
#endif

/// The pages compiled code lives in: mapped in chunks near the host's code (pre-faulted), handed
/// out read+write for one program's code, and taken back read+write when that code is freed,
/// for the next program. Compiling a program then costs one `mprotect` (making its pages
/// read+execute) instead of a mapping, page faults and an unmapping.
final class CodePages: @unchecked Sendable {
    static let shared = CodePages()

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// Pages mapped at once for a new chunk.
    private static let chunkPages = 256

    /// Runs of free pages (read+write): start and page count.
    private var free: [(start: UnsafeMutableRawPointer, pages: Int)] = []
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    private init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    /// `pages` read+write pages, every byte of them within ±2 GiB of every address in `targets`
    /// (anywhere when `targets` is empty).
    func take(_ pages: Int, near targets: [UInt64]) throws(ExecutableMemory.Failure) -> UnsafeMutableRawPointer {
        let size = UInt64(pages * Self.pageSize)
        let window = try Self.window(size: size, targets: targets)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let run = free.firstIndex(where: { candidate in
            let start = UInt64(UInt(bitPattern: candidate.start))
            return candidate.pages >= pages && start >= window.lowerBound && start + size <= window.upperBound
        }) {
            let start = free[run].start
            if free[run].pages == pages {
                free.remove(at: run)
            } else {
                free[run] = (start + Int(size), free[run].pages - pages)
            }
            return start
        }
        let chunk = max(pages, Self.chunkPages)
        // The chunk's first `pages` pages must lie in the window; the rest may lie beyond.
        let beyond = UInt64((chunk - pages) * Self.pageSize)
        let top = window.upperBound > UInt64.max - beyond ? UInt64.max : window.upperBound + beyond
        let memory = try Self.map(chunk * Self.pageSize, within: window.lowerBound...top)
        if chunk > pages { free.append((memory + Int(size), chunk - pages)) }
        return memory
    }

    /// Takes back `pages` pages at `start`, no longer executable.
    func give(_ start: UnsafeMutableRawPointer, pages: Int) {
        guard mprotect(start, pages * Self.pageSize, PROT_READ | PROT_WRITE) == 0 else {
            munmap(start, pages * Self.pageSize)
            return
        }
        pthread_mutex_lock(mutex)
        free.append((start, pages))
        pthread_mutex_unlock(mutex)
    }

    /// The addresses a range of `size` bytes may start at so that all of it lies within ±2 GiB
    /// (less a margin) of every target.
    private static func window(size: UInt64, targets: [UInt64]) throws(ExecutableMemory.Failure) -> ClosedRange<UInt64> {
        guard let lowest = targets.min(), let highest = targets.max() else { return 0...UInt64.max - size }
        let reach: UInt64 = 1 << 31 - (1 << 20)
        let low = highest > reach ? highest - reach : UInt64(pageSize)
        guard lowest + reach > size, low <= lowest + reach - size else { throw .noNearRange }
        return low...(lowest + reach)
    }

    /// A pre-faulted read+write mapping of `size` bytes whose end lies at or below
    /// `window.upperBound` and start at or above its lower bound: probed downward from just
    /// below the window's top half, then upward.
    private static func map(_ size: Int, within window: ClosedRange<UInt64>) throws(ExecutableMemory.Failure)
        -> UnsafeMutableRawPointer
    {
        let failed = UnsafeMutableRawPointer(bitPattern: -1)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE
        if window.lowerBound == 0 {
            guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE, flags, -1, 0), memory != failed else {
                throw .system(call: "mmap", errno: errno)
            }
            return memory
        }
        let page = UInt64(pageSize)
        let step = UInt64(16 << 20)
        let middle = (window.lowerBound / 2 + window.upperBound / 2) & ~(page - 1)
        var candidates: [UInt64] = []
        var address = middle
        while address >= window.lowerBound && candidates.count < 64 {
            candidates.append(address)
            address = address > step ? address - step : 0
        }
        address = middle + step
        while address + UInt64(size) <= window.upperBound && candidates.count < 128 {
            candidates.append(address)
            address += step
        }
        for candidate in candidates {
            guard let memory = mmap(UnsafeMutableRawPointer(bitPattern: UInt(candidate)), size, PROT_READ | PROT_WRITE,
                                    flags, -1, 0), memory != failed
            else { throw .system(call: "mmap", errno: errno) }
            let start = UInt64(UInt(bitPattern: memory))
            if start >= window.lowerBound && start + UInt64(size) <= window.upperBound { return memory }
            munmap(memory, size)
        }
        throw .noNearRange
    }
}
