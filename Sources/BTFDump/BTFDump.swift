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

    /// `bpftool btf dump file F format c` for an ELF object's bytes (its `.BTF` section) or raw
    /// BTF bytes. The BTF is validated first, and refused if it holds a type cycle that would send
    /// libbpf's `btf_dump` (which writes the declarations) into endless recursion.
    public static func c(_ bytes: [UInt8]) throws(BTFDumpError) -> String {
        let (btfBytes, pointerSize) = try btfSection(in: bytes)
        let btf: BTF
        do {
            btf = try BTF(bytes: btfBytes)
        } catch {
            throw .invalidBTF(error)
        }
        if let id = CDumper.unguardedCycle(in: btf) { throw .unprintableCycle(typeID: id) }
        if let id = CDumper.unprintableSize(in: btf) { throw .unprintableSize(typeID: id) }
        let body = try CDumper.declarations(btfBytes, pointerSize: pointerSize)
        return CDumper.preamble + body + CDumper.epilogue
    }

    /// The `.BTF` bytes of an ELF object, or `bytes` unchanged when they already are raw BTF,
    /// with the pointer size libbpf would use (from the ELF class; 0 for raw BTF).
    public static func btfSection(in bytes: [UInt8]) throws(BTFDumpError) -> (bytes: [UInt8], pointerSize: Int) {
        if ELFSectionReader.isELF(bytes) {
            let elf = try ELFSectionReader(bytes: bytes)
            guard let section = elf.section(named: ".BTF") else { throw .noBTFSection }
            return (Array(section), elf.is64Bit ? 8 : 4)
        }
        guard bytes.count >= 2, (bytes[0] == 0x9f && bytes[1] == 0xeb) || (bytes[0] == 0xeb && bytes[1] == 0x9f) else {
            throw .notBTF
        }
        return (bytes, 0)
    }
}
