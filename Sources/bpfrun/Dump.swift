import ArgumentParser
import BPFVM
import JIT

/// `bpfrun dump`: a linked program with its source, in the layout of `bpftool prog dump xlated`
/// (or, with `--jited`, its machine code in the layout of `bpftool prog dump jited`).
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a linked program (or its machine code) with the source line above the instructions it produced.",
        discussion: """
            The layout follows `bpftool prog dump xlated [linum] [opcodes]`: the function's prototype, \
            `; source` lines from the BTF line info, then `N: instruction` in LLVM syntax, with maps, \
            global variables, helpers and subprograms named. --jited verifies the program (for its kind: \
            --host-btf for hook programs, --ctx-size for test-run kinds), compiles it and prints the machine \
            code as `bpftool prog dump jited` does: `pc:<tab>instruction` in AT&T syntax (disassembled by \
            llvm-objdump; without it, the bytes each BPF instruction became).
            """)

    @Argument(help: "The object file.")
    var file: String

    @Option(help: "The program to dump (may be left out when the object has one).")
    var prog: String?

    @Flag(help: "Show the file, line and column of each source line.")
    var linum = false

    @Flag(help: "Show each instruction's bytes.")
    var opcodes = false

    @Flag(help: "Print the JIT-compiled machine code instead of the BPF instructions.")
    var jited = false

    @Option(help: "With --jited: the host BTF (an object file or raw BTF) defining the hooks fentry/fexit/fmod_ret/lsm programs attach to.")
    var hostBTF: String?

    @Option(help: "With --jited: the context size test-run programs are verified for, in bytes.")
    var ctxSize: Int = 256

    func run() throws {
        let object = try InputFiles.object(at: file)
        let name = try ProgramChoice.name(prog, in: object, file: file)
        if jited {
            print(try jitedListing(object, name), terminator: "")
            return
        }
        let program: Program
        do { program = try Linker.link(object, program: name) } catch { throw CommandError("\(file): \(error)") }
        print(Self.render(program, object: object, linum: linum, opcodes: opcodes), terminator: "")
    }

    /// The machine code of program `name`, verified and compiled.
    private func jitedListing(_ object: Object, _ name: String) throws -> String {
        let host = try hostBTF.map { try InputFiles.btf(at: $0).btf }
        let loaded: LoadedObject
        let program: LoadedProgram
        do {
            loaded = try LoadedObject(object)
            try loaded.load(programs: [name])
            program = try loaded.program(named: name)
        } catch {
            throw CommandError("\(file): \(error)")
        }
        let compiled: CompiledProgram
        do {
            let verified = try program.verify(contextSize: ctxSize, hostBTF: host)
            compiled = try JITCompiler().compile(verified, loaded: program)
        } catch {
            throw CommandError("\(file): '\(name)' cannot be compiled: \(error)")
        }
        return MachineCodeListing.render(compiled, linked: program.linked, object: object, linum: linum, opcodes: opcodes)
    }

    /// The dump text of a linked program.
    static func render(_ program: Program, object: Object, linum: Bool, opcodes: Bool) -> String {
        let metadata = program.metadata
        var out = ""
        var nextLine = 0  // bpftool's nr_skip
        let lines = metadata.lines
        for (index, operation) in program.operations {
            if let function = metadata.functions.first(where: { $0.instructionIndex == index }) {
                if let btf = object.btf, function.typeID != 0, let prototype = TypeNames.prototype(ofFunction: function.typeID, in: btf) {
                    out += prototype + ":\n"
                } else {
                    out += "\(function.name):\n"
                }
            }
            // bpftool's lfind: from record nr_skip, the last record at or before this instruction.
            if nextLine < lines.count, lines[nextLine].instructionIndex <= index {
                var found = nextLine
                while found + 1 < lines.count, lines[found + 1].instructionIndex <= index { found += 1 }
                let record = lines[found]
                let source = record.source.drop(while: { $0 == " " || $0 == "\t" })
                out += linum
                    ? "; \(source) [file:\(record.fileName) line_num:\(record.lineNumber) line_col:\(record.column)]\n"
                    : "; \(source)\n"
                nextLine += 1
            }
            let number = String(index)
            out += String(repeating: " ", count: max(0, 4 - number.count)) + number + ": "
                + text(of: operation, at: index, program: program, object: object) + "\n"
            if opcodes {
                let slots = program.instructions[index..<(index + operation.slotCount)]
                out += "       " + slots.flatMap(\.bytes).map { hex($0) }.joined(separator: " ") + "\n"
            }
        }
        return out
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    /// LLVM syntax, with map references, global variables, helpers and subprograms named.
    static func text(of operation: BPFVM.Operation, at index: Int, program: Program, object: Object) -> String {
        let metadata = program.metadata
        switch operation {
        case let .loadImmediate64(.mapByIndex, dst, value):
            return "\(dst) = map[\(mapName(Int(UInt32(truncatingIfNeeded: value)), metadata))] ll"
        case let .loadImmediate64(.mapValueByIndex, dst, value):
            let map = mapName(Int(UInt32(truncatingIfNeeded: value)), metadata)
            let offset = Int(value >> 32)
            var text = "\(dst) = map[\(map)][0]+\(offset) ll"
            if let data = object.globalData.first(where: { $0.mapName == map }),
               let variable = data.variables.first(where: { offset >= $0.offset && offset < $0.offset + max($0.size, 1) })
            {
                text += " ; \(variable.name)" + (offset == variable.offset ? "" : "+\(offset - variable.offset)")
            }
            return text
        case let .loadImmediate64(.codeAddress, dst, value):
            let target = index + 1 + Int(Int32(truncatingIfNeeded: value))
            return "\(dst) = subprog[\(signed(target - index - 1))] <\(functionName(at: target, metadata))>"
        case .call(.helper(let id)):
            if let reason = metadata.poisonReason(at: index) { return "call \(id) ; poisoned: \(reason)" }
            let name = StandardHelpers.table[id]?.name
            return name.map { "call bpf_\($0)#\(id)" } ?? "call \(id)"
        case .call(.local(let offset)):
            return "call pc\(signed(Int(offset))) <\(functionName(at: index + 1 + Int(offset), metadata))>"
        default:
            return LLVMSyntax.text(of: operation, at: index)
        }
    }

    static func signed(_ value: Int) -> String { value < 0 ? "\(value)" : "+\(value)" }

    static func mapName(_ index: Int, _ metadata: ProgramMetadata) -> String {
        index < metadata.maps.count ? metadata.maps[index] : "#\(index)"
    }

    static func functionName(at index: Int, _ metadata: ProgramMetadata) -> String {
        metadata.functions.last(where: { $0.instructionIndex <= index }).map(\.name) ?? "?"
    }
}

/// Picking the program of an object a command works on.
enum ProgramChoice {
    /// `requested`, or the object's only program.
    static func name(_ requested: String?, in object: Object, file: String) throws -> String {
        if let requested {
            guard object.programs.contains(where: { $0.name == requested }) else {
                throw CommandError("\(file): no program named '\(requested)' (programs: \(object.programs.map(\.name).joined(separator: ", ")))")
            }
            return requested
        }
        guard object.programs.count == 1 else {
            if object.programs.isEmpty { throw CommandError("\(file): the object has no programs") }
            throw CommandError("\(file): the object has \(object.programs.count) programs; choose one with --prog (\(object.programs.map(\.name).joined(separator: ", ")))")
        }
        return object.programs[0].name
    }
}
