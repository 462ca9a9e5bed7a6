import ArgumentParser
import BPFVM

/// `bpfrun inspect`: what an object holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the programs, maps and global variables of a BPF object file.")

    @Argument(help: "The object file (clang -target bpf output).")
    var file: String

    func run() throws {
        let object = try InputFiles.object(at: file)
        print("object \(object.name)  license \"\(object.license)\"" + (object.kernelVersion.map { "  version \($0)" } ?? ""))
        print("programs:")
        if object.programs.isEmpty { print("  (none)") }
        for entry in object.programs {
            let instructions: String
            do {
                instructions = "\(try Linker.link(object, program: entry.name).instructions.count) insns"
            } catch {
                instructions = "does not link: \(error)"
            }
            let hook = entry.kind.hook.map { "  hook \($0)" } ?? ""
            print("  \(entry.name)  section \(entry.section)  kind \(entry.kind)\(hook)  \(instructions)")
        }
        print("maps:")
        if object.maps.isEmpty && object.globalData.isEmpty { print("  (none)") }
        for declaration in object.maps {
            let definition = declaration.definition
            var line = "  \(definition.name)  \(definition.type.name)  key \(definition.keySize)B  value \(definition.valueSize)B"
                + "  max_entries \(definition.maxEntries)"
            if definition.flags != 0 { line += "  flags 0x\(String(definition.flags, radix: 16))" }
            print(line)
        }
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
}
