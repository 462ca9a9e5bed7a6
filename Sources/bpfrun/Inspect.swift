import ArgumentParser
import BPFVM

/// `bpfrun inspect`: what an object holds, and what of it this runtime cannot run.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the programs, maps and global variables of a BPF object file.",
        discussion: """
            Any object that parses is listed: maps of every type, programs of every section. A program \
            this runtime cannot load, and a map it cannot create, is marked with the reason.
            """)

    @Argument(help: "The object file (clang -target bpf output).")
    var file: String

    func run() throws {
        let object = try InputFiles.object(at: file)
        print("object \(object.name)  license \"\(object.license)\"" + (object.kernelVersion.map { "  version \($0)" } ?? ""))
        print("programs:")
        if object.programs.isEmpty { print("  (none)") }
        for entry in object.programs { print("  " + Self.describe(entry, of: object)) }
        print("maps:")
        if object.maps.isEmpty && object.globalData.isEmpty { print("  (none)") }
        for declaration in object.maps { print("  " + Self.describe(declaration)) }
        for data in object.globalData {
            print("  \(data.mapName)  array  key 4B  value \(data.initialBytes.count)B  max_entries 1  flags "
                + "0x\(data.isReadOnly ? "480" : "400")  (section \(data.sectionName))")
        }
        print("globals:")
        let variables = object.globalData.flatMap { data in data.variables.map { (data, $0) } }
        if variables.isEmpty { print("  (none)") }
        for (data, variable) in variables {
            let type = object.btf.map { TypeNames.name(of: variable.typeID, in: $0) } ?? "?"
            print("  \(variable.name)  \(data.sectionName)+\(variable.offset)  \(variable.size)B  \(type)")
        }
    }

    /// A program's line: section, kind, hook and size, or why it cannot be linked or loaded here.
    static func describe(_ entry: ProgramEntry, of object: Object) -> String {
        var line = "\(entry.name)  section \(entry.section)"
        if let kind = entry.kind { line += "  kind \(kind)" + (kind.hook.map { "  hook \($0)" } ?? "") }
        let program: Program
        do {
            program = try Linker.link(object, program: entry.name)
        } catch {
            return line + "  does not link: \(programScoped(error))"
        }
        line += "  \(program.instructions.count) insns"
        do {
            _ = try LoadedObject.checkLoadable(program, of: object)
        } catch {
            line += "  cannot run here: \(programScoped(error))"
        }
        return line
    }

    /// A map's line: its type by the kernel's name and its attributes as declared, or why it cannot be created.
    static func describe(_ declaration: MapDeclaration) -> String {
        var line = "\(declaration.name)  \(declaration.type)  " + attributes(of: declaration)
        if !declaration.initialValues.isEmpty {
            let values = declaration.initialValues.sorted { $0.key < $1.key }.map { "[\($0.key)] \($0.value)" }
            line += "  values \(values.joined(separator: ", "))"
        }
        if let inner = declaration.innerMap { line += "  inner \(inner.type)  " + attributes(of: inner) }
        if declaration.isLegacy { line += "  (legacy section maps)" }
        if let reason = declaration.unavailability { line += "  cannot be created here: \(reason)" }
        return line
    }

    static func attributes(of declaration: MapDeclaration) -> String {
        var text = "key \(declaration.keySize)B  value \(declaration.valueSize)B  max_entries \(declaration.maxEntries)"
        if declaration.flags != 0 { text += "  flags 0x\(String(declaration.flags, radix: 16))" }
        if declaration.mapExtra != 0 { text += "  map_extra 0x\(String(declaration.mapExtra, radix: 16))" }
        return text
    }

    /// An error about one program, without the program's name (its line already shows it).
    static func programScoped(_ error: ObjectError) -> String {
        switch error {
        case let .link(_, instruction, reason): "instruction \(instruction): \(reason)"
        case let .core(_, instruction, reason): "instruction \(instruction): CO-RE relocation: \(reason)"
        case let .invalidInstructions(_, decodeError): "\(decodeError)"
        case let .notRunnable(_, _, reason): reason
        default: "\(error)"
        }
    }
}
