/// One entry of a validated ``ELFFile``'s `.symtab`, with its name resolved.
///
/// `sectionIndex` is guaranteed to be a special value (`SHN_UNDEF`, `SHN_ABS`, `SHN_COMMON`) or the index of a section.
public struct ELFSymbol: Hashable, Sendable {
    /// The symbol's index in the symbol table (what relocations refer to).
    public let index: Int
    /// The name from the symbol string table. A section symbol (`STT_SECTION`) without a name of its own takes
    /// its section's name, as `llvm-readelf` and `llvm-objdump` show it.
    public let name: String
    /// `st_value`: in a relocatable object, the offset within the symbol's section.
    public let value: UInt64
    /// `st_size`: the size in bytes of the object or function (0 if unknown).
    public let size: UInt64
    /// The type from `st_info`.
    public let type: SymbolType
    /// The binding from `st_info`.
    public let binding: SymbolBinding
    /// The visibility from `st_other` (its low 2 bits): 0 default, 1 internal, 2 hidden, 3 protected.
    public let visibility: UInt8
    /// `st_shndx` as is: ``ELFSymbol/undefinedSection`` (0), ``ELFSymbol/absoluteSection`` (0xfff1),
    /// ``ELFSymbol/commonSection`` (0xfff2), or a section index.
    public let sectionIndex: Int

    /// `st_shndx` of an undefined (extern) symbol. The corresponding C constant is `SHN_UNDEF`.
    public static let undefinedSection = 0
    /// `st_shndx` of an absolute symbol (e.g. the `STT_FILE` symbol). The corresponding C constant is `SHN_ABS`.
    public static let absoluteSection = 0xfff1
    /// `st_shndx` of a common (tentative) symbol. The corresponding C constant is `SHN_COMMON`.
    public static let commonSection = 0xfff2
}

/// The kind of entity an ``ELFSymbol`` names (`ELF64_ST_TYPE(st_info)`).
public enum SymbolType: Hashable, Sendable {
    /// `STT_NOTYPE` (0).
    case noType
    /// `STT_OBJECT` (1): a variable or map definition.
    case object
    /// `STT_FUNC` (2): a function (program or subprogram).
    case function
    /// `STT_SECTION` (3): the section itself, used by relocations against static data and functions.
    case section
    /// `STT_FILE` (4): the source file name.
    case file
    /// Any other value.
    case other(UInt8)

    init(rawValue: UInt8) {
        switch rawValue {
        case 0: self = .noType
        case 1: self = .object
        case 2: self = .function
        case 3: self = .section
        case 4: self = .file
        default: self = .other(rawValue)
        }
    }
}

/// The linkage of an ``ELFSymbol`` (`ELF64_ST_BIND(st_info)`).
public enum SymbolBinding: Hashable, Sendable {
    /// `STB_LOCAL` (0): `static` in C.
    case local
    /// `STB_GLOBAL` (1).
    case global
    /// `STB_WEAK` (2): `__weak`.
    case weak
    /// Any other value.
    case other(UInt8)

    init(rawValue: UInt8) {
        switch rawValue {
        case 0: self = .local
        case 1: self = .global
        case 2: self = .weak
        default: self = .other(rawValue)
        }
    }
}
