import Synchronization

/// Where `bpf_printk` output goes: a thread-safe, append-only list of lines the host reads (and
/// `bpfrun` prints), like the kernel's trace_pipe but per runtime.
public final class TraceSink: Sendable {
    private let storage = Mutex<[String]>([])

    public init() {}

    /// Appends one line (without its trailing newline).
    public func write(_ line: String) {
        storage.withLock { $0.append(line) }
    }

    /// Every line written so far.
    public var lines: [String] { storage.withLock { $0 } }

    /// Returns the lines written so far and forgets them.
    public func drain() -> [String] {
        storage.withLock { lines in
            defer { lines.removeAll() }
            return lines
        }
    }
}
