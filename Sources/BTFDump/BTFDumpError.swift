import BPFVM

/// Why a BTF cannot be dumped in C: it holds a type libbpf's C dumper cannot print, or the dumper failed.
public enum BTFDumpError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A cycle of pointers, arrays, typedefs, qualifiers and function prototypes (no struct or
    /// union on it), which C cannot spell and libbpf's dumper would recurse on forever.
    case unprintableCycle(typeID: UInt32)
    /// An INT of more than 16 bytes, or a struct or union whose size leaves more than 8 MiB
    /// uncovered by its members; libbpf would pad around it with millions of `long: 64;` lines.
    case unprintableSize(typeID: UInt32)
    /// libbpf's `btf__new` or `btf_dump` failed with this errno.
    case libbpf(code: Int32, message: String)

    public var description: String {
        switch self {
        case .unprintableCycle(let id):
            "type [\(id)] is on a cycle of pointers, arrays, typedefs, qualifiers and function prototypes that C cannot declare"
        case .unprintableSize(let id):
            "type [\(id)] claims a size C cannot print (an INT over 16 bytes, or a struct or union with more than 8 MiB not covered by members)"
        case .libbpf(let code, let message): "libbpf failed: \(message) (error \(code))"
        }
    }
}
