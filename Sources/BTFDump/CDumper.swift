import BPFVM
import CBTFDumpShim

/// `bpftool btf dump file F format c` (bpftool 7.1): its fixed preamble and epilogue around the
/// declarations libbpf's `btf_dump` writes for every type in id order.
enum CDumper {
    static let preamble = """
        #ifndef __VMLINUX_H__
        #define __VMLINUX_H__

        #ifndef BPF_NO_PRESERVE_ACCESS_INDEX
        #pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
        #endif


        """

    static let epilogue = """
        #ifndef BPF_NO_PRESERVE_ACCESS_INDEX
        #pragma clang attribute pop
        #endif

        #endif /* __VMLINUX_H__ */

        """

    /// The declarations of every type of the raw BTF `bytes`, from libbpf.
    static func declarations(_ bytes: [UInt8], pointerSize: Int) throws(BTFDumpError) -> String {
        var output: UnsafeMutablePointer<CChar>?
        var length = 0
        let result = bytes.withUnsafeBytes { buffer in
            bpfrun_btf_dump_c(buffer.baseAddress, buffer.count, Int32(pointerSize), &output, &length)
        }
        guard result == 0, let output else {
            throw .libbpf(code: result, message: errorMessage(result))
        }
        defer { bpfrun_btf_dump_free(output) }
        let text = UnsafeRawBufferPointer(start: output, count: length)
        return String(decoding: text, as: UTF8.self)
    }

    /// A type on a cycle made only of pointers, arrays, typedefs, qualifiers, type tags and
    /// function prototypes, or nil. The kernel accepts such cycles (a pointer breaks them, e.g. a
    /// pointer to a prototype that takes that pointer), but libbpf's C dumper follows these kinds
    /// without marking them and recurses until the stack overflows; bpftool crashes on them.
    static func unguardedCycle(in btf: BTF) -> UInt32? {
        func successors(_ id: UInt32) -> [UInt32] {
            guard let type = btf.type(id) else { return [] }
            let targets: [UInt32]
            switch type.kind {
            case .pointer(let next), .typedef(let next), .const(let next), .volatile(let next), .restrict(let next),
                 .typeTag(let next):
                targets = [next]
            case .array(let element, _, _):
                targets = [element]
            case .functionProto(let returnType, let parameters):
                targets = [returnType] + parameters.map(\.type)
            default:
                targets = []
            }
            return targets.filter { isUnguarded(btf.type($0)?.kind) }
        }
        func isUnguarded(_ kind: BTFKind?) -> Bool {
            switch kind {
            case .pointer?, .array?, .typedef?, .const?, .volatile?, .restrict?, .typeTag?, .functionProto?: true
            default: false
            }
        }
        // Iterative depth-first search with three colours: 0 new, 1 on the path, 2 done.
        var colour = [UInt8](repeating: 0, count: btf.count)
        for start in btf.types where isUnguarded(start.kind) && colour[Int(start.id)] == 0 {
            var path: [(id: UInt32, next: [UInt32])] = [(start.id, successors(start.id))]
            colour[Int(start.id)] = 1
            while !path.isEmpty {
                guard let next = path[path.count - 1].next.popLast() else {
                    colour[Int(path.removeLast().id)] = 2
                    continue
                }
                switch colour[Int(next)] {
                case 1: return next
                case 0:
                    colour[Int(next)] = 1
                    path.append((next, successors(next)))
                default: break
                }
            }
        }
        return nil
    }

    /// A type whose size libbpf's C dumper turns into a flood of padding, or nil: an INT of more
    /// than 16 bytes (the kernel only checks that its bits fit), or a struct or union whose
    /// members leave more than `limit` bytes uncovered. libbpf fills holes with one `long: 64;`
    /// line per 8 bytes, so a size field claiming gigabytes would produce gigabytes of text.
    static func unprintableSize(in btf: BTF, limit: Int = 8 << 20) -> UInt32? {
        for type in btf.types {
            let size: Int, members: BTFComponents<BTFMember>, isUnion: Bool
            switch type.kind {
            case .int(let intSize, _, _, _):
                if intSize > 16 { return type.id }
                continue
            case .structure(let s, let m): (size, members, isUnion) = (s, m, false)
            case .union(let s, let m): (size, members, isUnion) = (s, m, true)
            default: continue
            }
            guard size > limit else { continue }
            let sizes = members.map { btf.resolvedSize(of: $0.type) ?? 0 }
            let covered = isUnion ? (sizes.max() ?? 0) : sizes.reduce(0, +)
            if size - covered > limit { return type.id }
        }
        return nil
    }

    static func errorMessage(_ code: Int32) -> String {
        switch -code {
        case 12: "out of memory"
        case 22: "invalid BTF"
        case 7: "BTF too large"
        case 27: "the C text would exceed 64 MiB (a struct claims an enormous size)"
        case 95: "unsupported BTF"
        default: "error \(code)"
        }
    }
}
