#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import BPFVM

/// `bpfrun asm`: assembly text in, instruction slots out.
struct Assemble: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asm",
        abstract: "Assemble bpf_conformance-syntax text into BPF instructions.",
        discussion: "Without -o, prints one 64-bit slot per line as 0x-prefixed hex (the `-- raw` format).")

    @Argument(help: "The assembly file.")
    var file: String

    @Option(name: .short, help: "Write the raw little-endian instructions to this file.")
    var output: String?

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    func run() throws {
        let program = try InputFiles.program(at: file)
        guard let output else {
            for slot in program.instructions {
                let digits = String(slot.rawValue, radix: 16)
                print("0x" + String(repeating: "0", count: 16 - digits.count) + digits)
            }
            return
        }
        if output == file { throw CommandError("-o \(output) would overwrite the input file") }
        if !force && FileManager.default.fileExists(atPath: output) {
            throw CommandError("\(output) exists; pass --force to replace it")
        }
        let bytes = program.instructions.flatMap(\.bytes)
        guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
            throw CommandError("cannot write \(output)")
        }
    }
}
