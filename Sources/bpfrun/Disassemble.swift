import ArgumentParser
import BPFVM

/// `bpfrun disasm`: instruction slots in, text out.
struct Disassemble: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disasm",
        abstract: "Disassemble BPF instructions (a raw file of 8-byte slots, or assembly text).")

    enum Syntax: String, ExpressibleByArgument, CaseIterable {
        case llvm, conformance
    }

    @Argument(help: "The program file.")
    var file: String

    @Option(help: "Output syntax: llvm (as llvm-objdump prints it) or conformance (bpf_conformance assembly).")
    var syntax: Syntax = .llvm

    func run() throws {
        let program = try InputFiles.program(at: file)
        switch syntax {
        case .llvm: print(LLVMSyntax.listing(of: program), terminator: "")
        case .conformance: print(ConformanceSyntax.listing(of: program), terminator: "")
        }
    }
}
