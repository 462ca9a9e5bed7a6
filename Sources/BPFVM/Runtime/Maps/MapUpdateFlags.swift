/// How an update treats an existing key: the kernel's `BPF_ANY`, `BPF_NOEXIST` and `BPF_EXIST`.
///
/// Helpers pass the raw `u64`; ``Map`` validates it with the kernel's rules: any other bit,
/// including `BPF_F_LOCK` (4, which needs a `bpf_spin_lock` in the value), fails with `-EINVAL`.
public enum MapUpdateFlags: UInt64, Sendable, CaseIterable {
    /// `BPF_ANY`: create the entry or replace its value.
    case any = 0
    /// `BPF_NOEXIST`: create only; an existing key fails with `-EEXIST`.
    case noExist = 1
    /// `BPF_EXIST`: replace only; a missing key fails with `-ENOENT`. For queues and stacks:
    /// overwrite the oldest element when full.
    case exist = 2

    /// `BPF_F_LOCK`, which this runtime rejects.
    public static let lockBit: UInt64 = 4

    /// The flags for a raw value, or `.invalidFlags` naming the offending bits.
    static func validated(_ raw: UInt64) throws(MapError.Reason) -> MapUpdateFlags {
        guard let flags = MapUpdateFlags(rawValue: raw) else {
            throw .invalidFlags(raw, expected: "BPF_ANY (0), BPF_NOEXIST (1) or BPF_EXIST (2)")
        }
        return flags
    }
}
