/// Why a BPF object file cannot be loaded, naming the part of the file at fault.
public enum ObjectError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The ELF container is malformed.
    case elf(ELFError)
    /// The `.BTF` or `.BTF.ext` section is malformed.
    case btf(BTFError)
    /// The object has a `.maps` section but no BTF to describe it.
    case mapsWithoutBTF
    /// A map's declaration is unusable, or a global-data section cannot be a map.
    case invalidMap(name: String, reason: String)
    /// A map this runtime cannot create (a legacy definition, or a type it does not implement); it fails only
    /// the programs that use it.
    case unsupportedMap(name: String, reason: String)
    /// A program, map or variable symbol whose place does not fit its section.
    case invalidSymbol(name: String, reason: String)
    /// A program whose section names no kind this runtime runs (kernel-only, or unknown to libbpf), asked to load.
    case notRunnable(program: String, section: String, reason: String)
    /// No program of that name in the object.
    case noSuchProgram(String, available: [String])
    /// A relocation or call the linker cannot resolve.
    case link(program: String, instruction: Int, reason: String)
    /// The instructions of a program do not decode.
    case invalidInstructions(program: String, DecodeError)
    /// A CO-RE relocation that cannot be applied against the target BTF.
    case core(program: String, instruction: Int, reason: String)
    /// A `__kconfig` or `__ksym` extern that cannot be resolved or has an unusable value.
    case extern(name: String, reason: String)

    public var description: String {
        switch self {
        case .elf(let error): error.qualifiedDescription
        case .btf(let error): "\(error)"
        case .mapsWithoutBTF: "section '.maps' needs BTF to describe its maps; compile with -g"
        case let .invalidMap(name, reason), let .unsupportedMap(name, reason): "map '\(name)': \(reason)"
        case let .invalidSymbol(name, reason): "symbol '\(name)': \(reason)"
        case let .notRunnable(program, section, reason): "program '\(program)' (section '\(section)'): \(reason)"
        case let .noSuchProgram(name, available):
            "no program named '\(name)' (programs: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
        case let .link(program, instruction, reason): "program '\(program)', instruction \(instruction): \(reason)"
        case let .invalidInstructions(program, error): "program '\(program)': \(error)"
        case let .core(program, instruction, reason):
            "program '\(program)', instruction \(instruction): CO-RE \(reason)"
        case let .extern(name, reason): "extern '\(name)': \(reason)"
        }
    }
}
