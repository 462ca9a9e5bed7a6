#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BPFVM
import BTFDump

/// `bpfrun btf`: an object's type information, as bpftool prints it.
struct BTFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "btf",
        abstract: "Print the BTF of an object or a raw BTF file: raw (as `bpftool btf dump file`), c (as `... format c`) or json (as `bpftool -j`).",
        discussion: """
            Only the BTF is read: the `.BTF` section of an ELF file (a BPF object, a kernel image or module), or \
            the whole file when it starts with the BTF magic, such as /sys/kernel/btf/vmlinux.
            """)


    @Argument(help: "The object file, or a raw BTF file.")
    var file: String

    @Option(help: "raw, c or json.")
    var format: BTFDump.Format = .raw

    func run() throws {
        let (btf, pointerSize) = try InputFiles.btf(at: file)
        do {
            // The BTF is handed over: the C dump lets go of it once libbpf has its copy.
            try BTFDump.write(consume btf, as: format, pointerSize: pointerSize, to: writeToStandardOutput)
        } catch {
            throw CommandError("\(file): \(error)")
        }
    }
}

extension BTFDump.Format: ExpressibleByArgument {}
