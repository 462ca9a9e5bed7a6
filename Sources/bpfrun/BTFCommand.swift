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

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case raw, c, json
    }

    @Argument(help: "The object file, or a raw BTF file.")
    var file: String

    @Option(help: "raw, c or json.")
    var format: Format = .raw

    func run() throws {
        let (btf, pointerSize) = try InputFiles.btf(at: file)
        switch format {
        case .raw: print(BTFDump.raw(btf), terminator: "")
        case .json: print(BTFDump.json(btf), terminator: "")
        case .c:
            do {
                print(try BTFDump.c(btf, pointerSize: pointerSize), terminator: "")
            } catch {
                throw CommandError("\(file): \(error)")
            }
        }
    }
}
