#if canImport(Glibc)
import Glibc
#endif

/// A cgroup (v2) as programs see one: its path in the cgroup hierarchy (`/` for the root) and
/// its id, which is the inode number of its folder in the cgroup2 file system, as the kernel's
/// `bpf_get_current_cgroup_id` returns it (1 for the root).
///
/// The "current task" of a run is the host process, so by default a run is in the process's
/// own cgroup (the `0::PATH` line of `/proc/self/cgroup`); a host sets another on its
/// `ExecutionContext`, for instance to test a cgroup filter.
public struct Cgroup: Hashable, Sendable {
    public var path: String
    /// The cgroup's id (0 when the cgroup2 file system is not mounted or the path is not in it).
    public var id: UInt64

    public init(path: String, id: UInt64) {
        self.path = path
        self.id = id
    }

    /// The cgroup at `path`, its id read from the cgroup2 file system.
    public init(path: String) {
        self.init(path: path, id: Self.id(ofPath: path))
    }

    /// The cgroup the host process is in.
    public static var ofProcess: Cgroup { Cgroup(path: processPath) }

    /// Whether this cgroup is `ancestor` or lies below it (the kernel's
    /// `task_under_cgroup_hierarchy`).
    public func isUnder(_ ancestor: String) -> Bool {
        let base = ancestor.hasSuffix("/") && ancestor.count > 1 ? String(ancestor.dropLast()) : ancestor
        return base == "/" || path == base || path.hasPrefix(base + "/")
    }

    /// The path of the `0::` (cgroup v2) line of `/proc/self/cgroup`, `/` when there is none.
    static var processPath: String {
        guard let text = readFile("/proc/self/cgroup") else { return "/" }
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return "/"
    }

    /// Where the cgroup2 file system is mounted (from `/proc/self/mountinfo`), if it is.
    static let mountPoint: String? = {
        guard let text = readFile("/proc/self/mountinfo") else { return nil }
        for line in text.split(separator: "\n") {
            // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER"
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { continue }
            let fields = halves[0].split(separator: " ")
            if fields.count > 4 { return String(fields[4]) }
        }
        return nil
    }()

    /// The inode number of `path` under the cgroup2 mount, 0 when there is none.
    static func id(ofPath path: String) -> UInt64 {
        guard let mountPoint else { return 0 }
        var status = stat()
        guard stat(mountPoint + (path == "/" ? "" : path), &status) == 0 else { return 0 }
        return UInt64(status.st_ino)
    }

    /// A small text file's contents (files of /proc report no size, so read until the end).
    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
