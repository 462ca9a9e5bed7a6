#if canImport(Glibc)
import Glibc
#endif

/// Why a map could not be created or an operation on it failed, with the map's name.
///
/// ``errno`` is the negative errno the kernel's helper (or `bpf(2)` command) returns in the
/// same situation, so helpers can hand it to programs unchanged.
public struct MapError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Error, Hashable, Sendable {
        /// The definition cannot describe a map of its type (the text says which field and why).
        case invalidDefinition(String)
        /// A size in the definition exceeds what the type allows.
        case tooLarge(String)
        /// The kernel map type number is not implemented by this runtime.
        case unsupportedType(UInt32)
        /// Flag bits the operation does not accept; `expected` lists the valid ones.
        case invalidFlags(UInt64, expected: String)
        /// A host-supplied key of the wrong length.
        case wrongKeySize(expected: Int, actual: Int)
        /// A host-supplied value of the wrong length.
        case wrongValueSize(expected: Int, actual: Int)
        /// `BPF_NOEXIST` (or an array update, which always exists) met an existing key.
        case keyExists
        /// The key is not in the map.
        case noSuchKey
        /// Every preallocated element is in use (hash map or queue without overwrite).
        case full
        /// An array index at or past `max_entries`.
        case indexOutOfRange(UInt64, maxEntries: Int)
        /// Pop or peek on an empty queue or stack.
        case empty
        /// The ring buffer has no room for a record of this many bytes.
        case noSpace(requested: Int)
        /// A perf event buffer is full: the record is lost (and counted).
        case bufferFull
        /// The map type does not offer the operation (the text says what to use instead).
        case unsupportedOperation(String)
        /// A write the map refuses: frozen for the host, or `BPF_F_RDONLY_PROG` for programs.
        case readOnly(String)
        /// The value storage could not be allocated.
        case outOfMemory(bytes: Int)
    }

    /// The name of the map from its definition.
    public var mapName: String
    /// What went wrong.
    public var reason: Reason

    public init(mapName: String, reason: Reason) {
        self.mapName = mapName
        self.reason = reason
    }

    /// The negative errno a helper returns for this error (`-EEXIST`, `-ENOENT`, `-E2BIG`,
    /// `-EINVAL`, `-EAGAIN`, `-ENOSPC`, `-EPERM` or `-ENOMEM`).
    public var errno: Int32 {
        switch reason {
        case .invalidDefinition, .unsupportedType, .invalidFlags, .wrongKeySize, .wrongValueSize,
             .unsupportedOperation: -EINVAL
        case .tooLarge, .full, .indexOutOfRange: -E2BIG
        case .keyExists: -EEXIST
        case .noSuchKey, .empty: -ENOENT
        case .noSpace: -EAGAIN
        case .bufferFull: -ENOSPC
        case .readOnly: -EPERM
        case .outOfMemory: -ENOMEM
        }
    }

    public var description: String { "map '\(mapName)': \(problem)" }

    /// What went wrong, without the map's name.
    public var problem: String {
        let what: String
        switch reason {
        case .invalidDefinition(let text): what = "invalid definition: \(text)"
        case .tooLarge(let text): what = "too large: \(text)"
        case .unsupportedType(let raw):
            let supported = MapType.allCases.map(\.name).joined(separator: ", ")
            what = "\(KernelMapType(rawValue: raw)) is not a map type this runtime implements (it implements \(supported))"
        case .invalidFlags(let flags, let expected):
            if flags & MapUpdateFlags.lockBit != 0 && flags & ~(MapUpdateFlags.lockBit | 3) == 0 {
                what = "BPF_F_LOCK is not supported (values cannot hold a bpf_spin_lock); use \(expected)"
            } else {
                what = "invalid flags 0x\(String(flags, radix: 16)); use \(expected)"
            }
        case .wrongKeySize(let expected, let actual):
            what = "key is \(actual) bytes but the map's key_size is \(expected)"
        case .wrongValueSize(let expected, let actual):
            what = "value is \(actual) bytes but the map's value_size is \(expected)"
        case .keyExists: what = "key already exists (BPF_NOEXIST)"
        case .noSuchKey: what = "no such key"
        case .full: what = "map is full (max_entries reached); delete entries or raise max_entries"
        case .indexOutOfRange(let index, let maxEntries):
            what = "index \(index) is out of range (max_entries \(maxEntries))"
        case .empty: what = "no element to pop or peek: the map is empty"
        case .noSpace(let requested):
            what = "ring buffer has no room for a \(requested)-byte record; consume records or enlarge it"
        case .bufferFull:
            what = "perf event buffer is full: the record is lost; consume records more often"
        case .unsupportedOperation(let text): what = text
        case .readOnly(let text): what = text
        case .outOfMemory(let bytes): what = "cannot allocate \(bytes) bytes of map storage"
        }
        return what
    }
}
