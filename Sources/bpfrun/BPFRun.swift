#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser

/// The `bpfrun` command line: assemble, disassemble and run BPF programs, and run the
/// bpf_conformance suite.
@main
struct BPFRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bpfrun",
        abstract: "A userspace eBPF runtime: load, inspect, run and test BPF programs.",
        subcommands: [Assemble.self, Disassemble.self, Run.self, Inspect.self, Dump.self, BTFCommand.self,
                      ConformanceCommand.self, Bench.self, Verify.self]
    )

    /// Runs the command; any error becomes one line on stderr (`bpfrun: ...`) and a non-zero exit.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))  // --help, --version
            } else {
                let message = message(for: error)
                if !message.isEmpty {
                    writeToStandardError("bpfrun: \(message.split(separator: "\n").joined(separator: "; "))\n")
                }
            }
            Glibc.exit(code.rawValue)
        }
    }
}

/// A failure of a command, described in one line that names what the user gave and what is wrong.
struct CommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Writes `text` to file descriptor 2.
func writeToStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
}

/// Writes `bytes` to file descriptor 1, all of them (a failed write, such as to a closed pipe,
/// ends the output).
func writeToStandardOutput(_ bytes: UnsafeRawBufferPointer) {
    var rest = bytes
    while let base = rest.baseAddress, !rest.isEmpty {
        let written = Glibc.write(1, base, rest.count)
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        rest = UnsafeRawBufferPointer(rebasing: rest[written...])
    }
}
