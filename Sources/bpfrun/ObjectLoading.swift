import ArgumentParser
import BPFVM

/// The options that decide how an object's programs are loaded (`run`, `verify`): the BTF CO-RE
/// relocations resolve against and the kernel configuration `__kconfig` externs read.
struct ObjectLoading: ParsableArguments {
    @Option(help: "Resolve CO-RE relocations against the BTF of this file (an object, or raw BTF) instead of the object's own.")
    var targetBTF: String?

    @Option(help: "Read __kconfig CONFIG_* values from this kernel configuration (the text of a .config); without it, weak ones read 0.")
    var kconfig: String?

    /// `object` (read from `file`) with the programs `names` loaded, and only them and what they
    /// reference: the object's other programs do not matter.
    func load(_ object: Object, programs names: [String], file: String) throws -> LoadedObject {
        let target = try targetBTF.map { try InputFiles.btf(at: $0).btf }
        let kernelConfig = try kconfig.map { path in
            do {
                return try KernelConfig(parsing: String(decoding: try InputFiles.bytes(at: path), as: UTF8.self))
            } catch let error as KernelConfigError {
                throw CommandError("\(path): \(error)")
            }
        } ?? KernelConfig()
        do {
            let loaded = try LoadedObject(object, kernelConfig: kernelConfig)
            try loaded.load(programs: names, targetBTF: target)
            return loaded
        } catch {
            throw CommandError("\(file): \(error)")
        }
    }
}
