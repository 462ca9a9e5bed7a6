import ArgumentParser
import BPFVM
import BTFDump

/// `bpfrun btf`: an object's type information, as bpftool prints it.
struct BTFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "btf",
        abstract: "Print the BTF of an object: raw (as `bpftool btf dump file`), c (as `... format c`) or json (as `bpftool -j`).")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case raw, c, json
    }

    @Argument(help: "The object file.")
    var file: String

    @Option(help: "raw, c or json.")
    var format: Format = .raw

    func run() throws {
        let object = try InputFiles.object(at: file)
        guard let btf = object.btf else { throw CommandError("\(file): the object has no .BTF section (compile with -g)") }
        switch format {
        case .raw: print(BTFDump.raw(btf), terminator: "")
        case .json: print(BTFDump.json(btf), terminator: "")
        case .c:
            do {
                print(try BTFDump.c(try InputFiles.bytes(at: file)), terminator: "")
            } catch {
                throw CommandError("\(file): \(error)")
            }
        }
    }
}
