#if canImport(Glibc)
import Glibc
#endif
import BPFVM
import JIT

/// `bpfrun dump --jited`: a compiled program's machine code in the layout of `bpftool prog dump
/// jited [linum] [opcodes]`: per function its prototype and symbol, the `; source` lines from
/// the BTF line info above the code they produced, and `pc:<tab>instruction` in AT&T syntax
/// (as llvm-objdump disassembles it; without llvm-objdump, the bytes of each BPF instruction).
enum MachineCodeListing {
    /// One machine instruction: where it starts in the code, its length and its text.
    struct Instruction {
        let offset: Int
        let length: Int
        let text: String
    }

    static func render(_ compiled: CompiledProgram, linked: Program, object: Object, linum: Bool, opcodes: Bool)
        -> String
    {
        let code = compiled.code
        let instructions = disassemble(Array(code[0..<compiled.instructionBytes]))
            ?? rawChunks(compiled, instructionBytes: compiled.instructionBytes)
        let metadata = linked.metadata
        // The source lines each machine offset starts, as bpftool's linfo walk finds them.
        var sources: [Int: [String]] = [:]
        var nextLine = 0
        for (index, _) in linked.operations {
            guard nextLine < metadata.lines.count, metadata.lines[nextLine].instructionIndex <= index,
                  let offset = compiled.instructionOffsets[index]
            else { continue }
            var found = nextLine
            while found + 1 < metadata.lines.count, metadata.lines[found + 1].instructionIndex <= index { found += 1 }
            let record = metadata.lines[found]
            let source = record.source.drop(while: { $0 == " " || $0 == "\t" })
            sources[offset, default: []].append(linum
                ? "; \(source) [file:\(record.fileName) line_num:\(record.lineNumber) line_col:\(record.column)]"
                : "; \(source)")
            nextLine += 1
        }
        // Function headers: the entry stub first, then each BPF function.
        var headers: [Int: [String]] = [0: ["\(metadata.name)__entry:"]]
        for (start, offset) in compiled.functions {
            let function = metadata.functions.first { $0.instructionIndex == start }
            var lines: [String] = []
            if let function, let btf = object.btf, function.typeID != 0,
               let prototype = TypeNames.prototype(ofFunction: function.typeID, in: btf)
            {
                lines.append(prototype + ":")
            }
            lines.append("bpf_prog_\(metadata.name)_\(function?.name ?? "f\(start)"):")
            headers[offset] = lines
        }
        var out = ""
        for instruction in instructions {
            if let header = headers[instruction.offset] {
                if instruction.offset != 0 { out += "\n" }
                out += header.joined(separator: "\n") + "\n"
            }
            for line in sources[instruction.offset] ?? [] { out += line + "\n" }
            let pc = String(instruction.offset, radix: 16)
            out += String(repeating: " ", count: max(0, 4 - pc.count)) + pc + ":\t" + instruction.text + "\n"
            if opcodes {
                out += "\t" + code[instruction.offset..<(instruction.offset + instruction.length)]
                    .map { Dump.hex($0) + " " }.joined() + "\n"
            }
        }
        return out
    }

    /// Without a disassembler: the bytes of each BPF instruction (and of the entry stub) as one chunk.
    static func rawChunks(_ compiled: CompiledProgram, instructionBytes: Int) -> [Instruction] {
        let starts = Set([0] + compiled.functions.map(\.offset) + compiled.instructionOffsets.compactMap { $0 })
            .filter { $0 < instructionBytes }.sorted()
        let code = compiled.code
        return starts.enumerated().map { number, start in
            let end = number + 1 < starts.count ? starts[number + 1] : instructionBytes
            return Instruction(offset: start, length: end - start,
                               text: ".byte " + code[start..<end].map { "0x" + Dump.hex($0) }.joined(separator: ", "))
        }
    }

    /// The instructions of `code` as llvm-objdump disassembles them (the bytes made an ELF
    /// object's `.data` by llvm-objcopy), or nil when either tool is missing or fails.
    static func disassemble(_ code: [UInt8]) -> [Instruction]? {
        guard !code.isEmpty, let objcopy = tool("llvm-objcopy"), let objdump = tool("llvm-objdump") else { return nil }
        var template = Array("/tmp/bpfrun-jited-XXXXXX".utf8CString)
        guard let directory = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) })
        else { return nil }
        let binary = directory + "/code.bin", elf = directory + "/code.o"
        defer {
            unlink(binary)
            unlink(elf)
            rmdir(directory)
        }
        guard let file = fopen(binary, "wb") else { return nil }
        let written = code.withUnsafeBytes { fwrite($0.baseAddress, 1, code.count, file) }
        fclose(file)
        guard written == code.count,
              output(of: "'\(objcopy)' -I binary -O elf64-x86-64 '\(binary)' '\(elf)'") != nil,
              let listing = output(of: "'\(objdump)' -D -z --no-show-raw-insn -j .data '\(elf)'")
        else { return nil }
        var parsed: [(Int, String)] = []
        for line in listing.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"),
                  let offset = Int(line[..<colon].trimmingCharacters(in: " "), radix: 16)
            else { continue }
            var text = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
            // llvm-objdump names branch targets after the section's symbol; bpftool shows only the address.
            if let symbol = text.firstRange(of: " <_binary_") { text = String(text[..<symbol.lowerBound]) }
            parsed.append((offset, text))
        }
        guard !parsed.isEmpty else { return nil }
        return parsed.enumerated().map { number, entry in
            let end = number + 1 < parsed.count ? parsed[number + 1].0 : code.count
            return Instruction(offset: entry.0, length: end - entry.0, text: entry.1)
        }
    }

    /// The path of an LLVM tool: next to the Swift toolchain's clang, or on PATH.
    static func tool(_ name: String) -> String? {
        var directories = ["/opt/swift/usr/bin"]
        if let path = getenv("PATH") { directories += String(cString: path).split(separator: ":").map(String.init) }
        return directories.map { $0 + "/" + name }.first { access($0, X_OK) == 0 }
    }

    /// The standard output of a shell command that succeeded, else nil.
    private static func output(of command: String) -> String? {
        guard let pipe = popen(command + " 2>/dev/null", "r") else { return nil }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, pipe) }
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return pclose(pipe) == 0 ? String(decoding: bytes, as: UTF8.self) : nil
    }
}
