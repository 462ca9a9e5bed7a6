/// An extern of an object, as libbpf collects them (`bpf_object__collect_externs`): an undefined
/// global or weak symbol that the BTF declares in DATASEC `.kconfig` (a `__kconfig` value) or
/// `.ksyms` (a `__ksym` kernel variable or kfunc).
///
/// Linking resolves them as libbpf does when the kernel cannot: `__kconfig` values come from a
/// ``KernelConfig`` (libbpf's own `LINUX_*` values included) through the `.kconfig` map; this
/// runtime has no kernel symbols, so a weak `__ksym` variable or kfunc address reads as 0 and a
/// call of a weak kfunc is poisoned (``PoisonedInstruction``), while a strong one that a program
/// uses is an error naming it.
public struct ExternDeclaration: Hashable, Sendable {
    /// What the extern stands for.
    public enum Kind: Hashable, Sendable {
        /// A `__kconfig` value of this type, at ``ExternDeclaration/offset`` in the `.kconfig` map.
        case kernelConfig(KernelConfigType)
        /// A `__ksym` variable (its BTF type; 0 for a typeless `extern const void x __ksym`).
        case kernelSymbol(typeID: UInt32)
        /// A `__ksym` function (a kfunc), with its BTF FUNC.
        case kernelFunction(typeID: UInt32)
        /// An extern libbpf would refuse, and why; an error only for a program that uses it.
        case unsupported(String)
    }

    public let name: String
    public let kind: Kind
    /// Declared `__weak`: when it cannot be resolved it reads as 0 instead of failing.
    public let isWeak: Bool
    /// For a `__kconfig` extern, where its value lives in the `.kconfig` map and its size.
    public let offset: Int
    public let size: Int

    /// The DATASEC libbpf reads `__kconfig` externs from, and the map section it makes of them.
    public static let kernelConfigSection = ".kconfig"
    /// The DATASEC of `__ksym` externs.
    public static let kernelSymbolSection = ".ksyms"
}

/// The C type of a `__kconfig` extern, as libbpf classifies it (`find_kcfg_type`).
public enum KernelConfigType: Hashable, Sendable {
    /// `bool` (a 1-byte BOOL integer): `y` is 1, `n` is 0.
    case bool
    /// A 1-byte integer: takes `y`, `n`, `m` as characters, or a number.
    case char
    /// `enum libbpf_tristate`: `n` 0, `y` 1, `m` 2.
    case tristate
    /// An integer of 2, 4 or 8 bytes.
    case integer(size: Int, isSigned: Bool)
    /// A `char` array: a quoted string, cut to fit with its NUL.
    case characterArray(count: Int)
}

extension Object {
    /// The externs of `elf` in libbpf's order (`.kconfig` ones first, by decreasing alignment,
    /// increasing size, then name; then `.ksyms` ones by name), with `.kconfig` values laid out
    /// as libbpf lays them out; and the `.kconfig` map section holding them, if there are any.
    static func externDeclarations(_ elf: ELFFile, _ btf: BTF?, objectName: String)
        -> (externs: [ExternDeclaration], kernelConfig: GlobalDataSection?)
    {
        guard let btf else { return ([], nil) }
        struct Found {
            var name: String, kind: ExternDeclaration.Kind, isWeak: Bool, typeID: UInt32, size: Int, alignment: Int
            var isKernelConfig: Bool { if case .kernelConfig = kind { true } else { false } }
        }
        // Which DATASEC each extern VAR or FUNC is in.
        var sectionOfType: [UInt32: String] = [:]
        for type in btf.types {
            guard case .dataSection(_, let entries) = type.kind else { continue }
            for entry in entries { sectionOfType[entry.type] = type.name }
        }
        var found: [Found] = []
        var seen = Set<String>()
        for symbol in elf.symbols where symbol.sectionIndex == ELFSymbol.undefinedSection && !symbol.name.isEmpty
            && (symbol.binding == .global || symbol.binding == .weak) && seen.insert(symbol.name).inserted
        {
            let isWeak = symbol.binding == .weak
            let declaration = btf.types(named: symbol.name).first { type in
                switch type.kind {
                case .variable(_, let linkage): linkage == .external
                case .function(_, let linkage): linkage == .external
                default: false
                }
            }
            guard let declaration else {
                found.append(Found(name: symbol.name, kind: .unsupported("no BTF VAR or FUNC declares it `extern`"
                    + " (declare it __kconfig or __ksym)"), isWeak: isWeak, typeID: 0, size: 0, alignment: 1))
                continue
            }
            switch sectionOfType[declaration.id] {
            case ExternDeclaration.kernelConfigSection?:
                guard case .variable(let type, _) = declaration.kind else {
                    found.append(Found(name: symbol.name, kind: .unsupported("a function cannot be __kconfig"),
                                       isWeak: isWeak, typeID: declaration.id, size: 0, alignment: 1))
                    continue
                }
                guard let configType = kernelConfigType(btf, type), let size = btf.resolvedSize(of: type) else {
                    found.append(Found(name: symbol.name, kind: .unsupported("its type is not one libbpf reads from"
                        + " the kernel configuration (bool, char, an integer of 1-8 bytes, enum libbpf_tristate,"
                        + " or a char array)"), isWeak: isWeak, typeID: type, size: 0, alignment: 1))
                    continue
                }
                found.append(Found(name: symbol.name, kind: .kernelConfig(configType), isWeak: isWeak, typeID: type,
                                   size: size, alignment: alignment(btf, type)))
            case ExternDeclaration.kernelSymbolSection?:
                let kind: ExternDeclaration.Kind
                switch declaration.kind {
                case .function: kind = .kernelFunction(typeID: declaration.id)
                case .variable(let type, _): kind = .kernelSymbol(typeID: btf.skippingModifiersAndTypedefs(type))
                default: kind = .unsupported("not a VAR or FUNC")
                }
                found.append(Found(name: symbol.name, kind: kind, isWeak: isWeak, typeID: declaration.id, size: 0,
                                   alignment: 1))
            case let other:
                found.append(Found(name: symbol.name, kind: .unsupported("it is in section '\(other ?? "none")';"
                    + " libbpf resolves externs of .kconfig and .ksyms only"), isWeak: isWeak, typeID: declaration.id,
                    size: 0, alignment: 1))
            }
        }
        found.sort { a, b in
            if a.isKernelConfig != b.isKernelConfig { return a.isKernelConfig }
            if a.isKernelConfig {
                if a.alignment != b.alignment { return a.alignment > b.alignment }
                if a.size != b.size { return a.size < b.size }
            }
            return a.name < b.name
        }
        var externs: [ExternDeclaration] = []
        var variables: [GlobalVariable] = []
        var end = 0
        for var extern in found {
            var offset = 0
            if extern.isKernelConfig {
                offset = (end + extern.alignment - 1) / extern.alignment * extern.alignment
                // The values become one map value, which has a size limit.
                if offset + extern.size > MapDefinition.maximumValueSize {
                    extern.kind = .unsupported("the .kconfig map would exceed \(MapDefinition.maximumValueSize) bytes")
                    offset = 0
                } else {
                    end = offset + extern.size
                    variables.append(GlobalVariable(name: extern.name, offset: offset, size: extern.size,
                                                    typeID: extern.typeID))
                }
            }
            externs.append(ExternDeclaration(name: extern.name, kind: extern.kind, isWeak: extern.isWeak,
                                             offset: offset, size: extern.size))
        }
        guard !variables.isEmpty else { return (externs, nil) }
        let section = GlobalDataSection(
            sectionName: ExternDeclaration.kernelConfigSection, sectionIndex: GlobalDataSection.noSection,
            mapName: mapName(forSection: ExternDeclaration.kernelConfigSection, objectName: objectName),
            initialBytes: [UInt8](repeating: 0, count: end), isReadOnly: true, variables: variables)
        return (externs, section)
    }

    /// libbpf's `find_kcfg_type`.
    private static func kernelConfigType(_ btf: BTF, _ id: UInt32) -> KernelConfigType? {
        guard let type = btf.type(btf.skippingModifiersAndTypedefs(id)) else { return nil }
        switch type.kind {
        case .int(let size, let encoding, _, _):
            if encoding == .bool { return size == 1 ? .bool : nil }
            if size == 1 { return .char }
            guard [2, 4, 8].contains(size) else { return nil }
            return .integer(size: size, isSigned: encoding.isSigned)
        case .enumeration(let size, _, _):
            return size == 4 && type.name == "libbpf_tristate" ? .tristate : nil
        case .enumeration64(let size, _, _):
            return (1...8).contains(size) && type.name == "libbpf_tristate" ? .tristate : nil
        case .array(let element, _, let count):
            guard count > 0, kernelConfigType(btf, element) == .char else { return nil }
            return .characterArray(count: count)
        default:
            return nil
        }
    }

    /// The alignment of a value of type `id` (`btf__align_of`): its size for scalars, the largest
    /// member alignment for composites, the element's for arrays.
    private static func alignment(_ btf: BTF, _ id: UInt32) -> Int {
        guard let type = btf.type(btf.skippingModifiersAndTypedefs(id)) else { return 1 }
        switch type.kind {
        case .int(let size, _, _, _), .enumeration(let size, _, _), .enumeration64(let size, _, _), .float(let size):
            return min(max(size, 1), 8)
        case .pointer: return 8
        case .array(let element, _, _): return alignment(btf, element)
        case .structure(_, let members), .union(_, let members):
            return members.map { alignment(btf, $0.type) }.max() ?? 1
        default: return 1
        }
    }
}
