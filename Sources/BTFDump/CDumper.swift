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

    /// libbpf's parse of a BTF's bytes, which it copies: the BTF may go once this exists.
    struct Session: ~Copyable {
        private let dump: OpaquePointer

        init(_ btf: borrowing BTF, pointerSize: Int?) throws(BTFDumpError) {
            var error: Int32 = 0
            let created = btf.bytes.withUnsafeBytes { bytes in
                bpfrun_btf_c_dump_new(bytes.baseAddress, bytes.count, Int32(pointerSize ?? 0), &error)
            }
            guard let created else { throw .libbpf(code: error, message: CDumper.errorMessage(error)) }
            dump = created
        }

        deinit { bpfrun_btf_c_dump_free(dump) }

        /// The declarations of every type, from libbpf's `btf_dump`, handed to `output` in chunks.
        func write(to output: (UnsafeRawBufferPointer) -> Void) throws(BTFDumpError) {
            let result = withoutActuallyEscaping(output) { output in
                let box = OutputBox(output)
                return withExtendedLifetime(box) {
                    bpfrun_btf_c_dump_run(dump, { context, data, length in
                        guard let context else { return }
                        Unmanaged<OutputBox>.fromOpaque(context).takeUnretainedValue()
                            .output(UnsafeRawBufferPointer(start: data, count: length))
                    }, Unmanaged.passUnretained(box).toOpaque())
                }
            }
            guard result == 0 else { throw .libbpf(code: result, message: CDumper.errorMessage(result)) }
        }
    }

    /// What the C callback reaches the output through.
    final class OutputBox {
        let output: (UnsafeRawBufferPointer) -> Void
        init(_ output: @escaping (UnsafeRawBufferPointer) -> Void) { self.output = output }
    }

    /// A type whose size libbpf's C dumper turns into a flood of padding, or nil: an INT of more
    /// than 16 bytes (the kernel only checks that its bits fit), or a struct or union whose
    /// members leave more than `limit` bytes uncovered. libbpf fills holes with one `long: 64;`
    /// line per 8 bytes, so a size field claiming gigabytes would produce gigabytes of text.
    static func unprintableSize(in btf: BTF, limit: Int = 8 << 20) -> UInt32? {
        for id in 1..<UInt32(btf.count) {
            // Most types are small: only a large size needs a closer look.
            switch btf.kindCode(of: id) {
            case .int?: guard let size = btf.storedSize(of: id), size > 16 else { continue }
            case .structure?, .union?: guard let size = btf.storedSize(of: id), size > limit else { continue }
            default: continue
            }
            guard let type = btf.type(id) else { continue }
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
