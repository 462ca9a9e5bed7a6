import BPFVM

/// Text dumps of a BTF, identical to what `bpftool btf dump file F` (bpftool 7.1, libbpf 1.1)
/// prints: the raw listing, its JSON form (`-j`) and C declarations (`format c`).
///
/// Like bpftool reading an object file, the dumps show the BTF as stored, before libbpf's
/// load-time fix-ups (DATASEC sizes stay 0, global variables' offsets stay 0). Names are written
/// as their bytes are stored. The text is produced in chunks, so that dumping a kernel's BTF
/// (12 MB of raw text) takes little memory beyond the BTF itself.
public enum BTFDump {
    /// What to print.
    public enum Format: String, Sendable, CaseIterable {
        /// `bpftool btf dump file F`: one line per type, members and the like on tab-indented lines.
        case raw
        /// `bpftool btf dump file F format c`: C declarations of every type, as libbpf writes them.
        case c
        /// `bpftool -j btf dump file F`: `{"types":[...]}` and a newline, written exactly as
        /// bpftool 7.1's JSON writer does (including its escaping of a backslash as `\n`).
        case json
    }

    /// Writes the dump of `btf` in `format` to `output`, chunk by chunk. `pointerSize` matters to
    /// the C dump only: the one the file's ELF class implies (nil for raw BTF, whose pointer size
    /// libbpf guesses from the types; see ``BTFSource``). The C dump refuses a BTF holding a type
    /// cycle that would send libbpf's `btf_dump` into endless recursion, or a size it would pad
    /// with gigabytes of text; it hands libbpf the BTF's bytes, which libbpf copies, and lets go of
    /// `btf` before dumping, so that the two copies never add up. If the C dump fails midway
    /// (libbpf's error, or more than 64 MiB of text), what it wrote before stays written.
    public static func write(_ btf: consuming BTF, as format: Format, pointerSize: Int? = nil,
                             to output: (UnsafeRawBufferPointer) -> Void) throws(BTFDumpError)
    {
        switch format {
        case .raw: writeListing(btf, json: false, to: output)
        case .json: writeListing(btf, json: true, to: output)
        case .c:
            if let id = btf.cycleWithoutAggregate() { throw .unprintableCycle(typeID: id) }
            if let id = CDumper.unprintableSize(in: btf) { throw .unprintableSize(typeID: id) }
            let session = try CDumper.Session(btf, pointerSize: pointerSize)
            _ = consume btf
            write(CDumper.preamble, to: output)
            try session.write(to: output)
            write(CDumper.epilogue, to: output)
        }
    }

    /// The dump of `btf` in `format`, as text (see ``write(_:as:pointerSize:to:)``).
    public static func text(_ btf: BTF, as format: Format, pointerSize: Int? = nil) throws(BTFDumpError) -> String {
        var bytes: [UInt8] = []
        try write(btf, as: format, pointerSize: pointerSize) { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `bpftool btf dump file F`.
    public static func raw(_ btf: BTF) -> String {
        listing(btf, json: false)
    }

    /// `bpftool -j btf dump file F`.
    public static func json(_ btf: BTF) -> String {
        listing(btf, json: true)
    }

    /// The raw or JSON listing, which cannot fail.
    private static func writeListing(_ btf: BTF, json: Bool, to output: (UnsafeRawBufferPointer) -> Void) {
        btf.withStringSection { strings in
            withoutActuallyEscaping(output) { output in
                var writer = ByteWriter(strings: strings, output: output)
                if json {
                    writer = JSONDumper(btf: btf).write(to: writer)
                } else {
                    RawDumper(btf: btf).write(to: &writer)
                }
                writer.flush()
            }
        }
    }

    private static func listing(_ btf: BTF, json: Bool) -> String {
        var bytes: [UInt8] = []
        writeListing(btf, json: json) { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `bpftool btf dump file F format c`.
    public static func c(_ btf: BTF, pointerSize: Int?) throws(BTFDumpError) -> String {
        try text(btf, as: .c, pointerSize: pointerSize)
    }

    private static func write(_ text: String, to output: (UnsafeRawBufferPointer) -> Void) {
        var text = text
        text.withUTF8 { output(UnsafeRawBufferPointer($0)) }
    }
}
