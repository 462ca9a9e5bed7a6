import BPFVM

/// Text dumps of a BTF, identical to what `bpftool btf dump file F` (bpftool 7.1, libbpf 1.1)
/// prints: the raw listing, its JSON form (`-j`) and C declarations (`format c`).
///
/// Like bpftool reading an object file, the dumps show the BTF as stored, before libbpf's
/// load-time fix-ups (DATASEC sizes stay 0, global variables' offsets stay 0).
public enum BTFDump {
    /// `bpftool btf dump file F`: one line per type, members and the like on tab-indented lines.
    public static func raw(_ btf: BTF) -> String {
        RawDumper(btf: btf).dump()
    }

    /// `bpftool -j btf dump file F`: `{"types":[...]}` and a newline, written exactly as
    /// bpftool 7.1's JSON writer does (including its escaping of a backslash as `\n`).
    public static func json(_ btf: BTF) -> String {
        JSONDumper(btf: btf).dump()
    }

    /// `bpftool btf dump file F format c`. `pointerSize` is the one the file's ELF class implies (nil for raw BTF,
    /// whose pointer size libbpf guesses from the types; see ``BTFSource``). A BTF holding a type cycle that would
    /// send libbpf's `btf_dump` (which writes the declarations) into endless recursion is refused.
    public static func c(_ btf: BTF, pointerSize: Int?) throws(BTFDumpError) -> String {
        if let id = CDumper.unguardedCycle(in: btf) { throw .unprintableCycle(typeID: id) }
        if let id = CDumper.unprintableSize(in: btf) { throw .unprintableSize(typeID: id) }
        let body = try CDumper.declarations(btf.bytes, pointerSize: pointerSize ?? 0)
        return CDumper.preamble + body + CDumper.epilogue
    }
}
