import Foundation
import Testing
import BPFVM

/// llvm-objdump of the Swift toolchain (LLVM 21), the oracle for instruction text and source lines.
enum ObjdumpOracle {
    static let path: String? = ["/opt/swift/usr/bin/llvm-objdump"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// `llvm-objdump -d -S --no-show-raw-insn` of a progs object: per section, index → instruction
    /// text (without objdump's ` <symbol+offset>` annotation), and every `; source` line.
    static func disassemble(_ name: String) throws -> (instructions: [String: [Int: String]], sourceLines: Set<String>) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(path))
        process.arguments = ["-d", "-S", "--no-show-raw-insn", Progs.directory.appendingPathComponent(name + ".o").path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var instructions: [String: [Int: String]] = [:]
        var sourceLines: Set<String> = []
        var section = ""
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Disassembly of section ") {
                section = String(line.dropFirst("Disassembly of section ".count).dropLast())
            } else if line.hasPrefix("; ") {
                sourceLines.insert(String(line.dropFirst(2)))
            } else if let colon = line.firstIndex(of: ":"), let index = Int(line[..<colon].trimmingCharacters(in: .whitespaces)),
                      line[line.index(after: colon)...].hasPrefix("\t")
            {
                var text = String(line[line.index(colon, offsetBy: 2)...])
                if let annotation = text.range(of: " <", options: .backwards), text.hasSuffix(">") {
                    text = String(text[..<annotation.lowerBound])
                }
                instructions[section, default: [:]][index] = text
            }
        }
        return (instructions, sourceLines)
    }
}

@Suite("Linked programs against llvm-objdump", .enabled(if: Progs.isBuilt, Progs.skipReason),
       .enabled(if: ObjdumpOracle.path != nil, "/opt/swift/usr/bin/llvm-objdump not found"))
struct DisassemblyOracleTests {
    @Test("instructions the linker leaves alone print as objdump prints them; source lines come from the same lines",
          arguments: Progs.names)
    func matchesObjdump(_ name: String) throws {
        let object = try Progs.object(name)
        let (instructions, sourceLines) = try ObjdumpOracle.disassemble(name)
        for entry in object.programs {
            let program = try Linker.link(object, program: entry.name)
            let functions = program.metadata.functions
            for (position, function) in functions.enumerated() {
                let symbol = try #require(object.elf.symbols.first { $0.name == function.name && $0.type == .function })
                let section = object.elf.sections[symbol.sectionIndex].name
                let start = Int(symbol.value / 8)
                let end = position + 1 < functions.count ? functions[position + 1].instructionIndex : program.instructions.count
                for (index, operation) in program.operations where index >= function.instructionIndex && index < end {
                    switch operation {
                    case .loadImmediate64, .call: continue  // rewritten by the linker
                    default: break
                    }
                    let original = start + index - function.instructionIndex
                    #expect(LLVMSyntax.text(of: operation, at: index) == instructions[section]?[original],
                            "\(name) \(function.name) instruction \(original) of \(section)")
                }
            }
            // BTF line info (what `bpfrun dump` shows) and DWARF (what objdump -S shows) describe
            // the same lines, except that BTF names a function's declaration line (column 0)
            // where DWARF names its opening brace.
            for line in program.metadata.lines where line.column != 0 {
                #expect(sourceLines.contains(line.source), "\(name): line info source '\(line.source)' not in objdump -S")
            }
        }
    }
}
