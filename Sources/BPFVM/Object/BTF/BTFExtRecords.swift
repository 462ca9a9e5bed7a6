/// The three sub-sections of `.BTF.ext`, named as libbpf names them.
public enum BTFExtSubsection: String, Hashable, Sendable, CaseIterable {
    case functionInfo = "func_info"
    case lineInfo = "line_info"
    case coreRelocation = "core_relo"

    /// The size of the record fields this parser reads (a larger `rec_size` means newer fields).
    var minimumRecordSize: Int {
        switch self {
        case .functionInfo: 8
        case .lineInfo: 16
        case .coreRelocation: 16
        }
    }
}

/// A function-info record: the FUNC type of the function starting at a byte offset of its ELF section.
public struct BTFFunctionInfo: Hashable, Sendable {
    /// The byte offset in the ELF section, as stored (a multiple of 8).
    public let instructionOffset: Int
    /// The FUNC type id.
    public let typeID: UInt32

    public init(instructionOffset: Int, typeID: UInt32) {
        self.instructionOffset = instructionOffset
        self.typeID = typeID
    }
}

/// A line-info record: the source position of the instruction at a byte offset of its ELF section.
public struct BTFLineInfo: Hashable, Sendable {
    /// The byte offset in the ELF section, as stored (a multiple of 8).
    public let instructionOffset: Int
    /// The source file, as clang stored it (an absolute path).
    public let fileName: String
    /// The whole source line, with its leading whitespace.
    public let line: String
    public let lineNumber: Int
    /// The column (0 when unknown).
    public let column: Int

    public init(instructionOffset: Int, fileName: String, line: String, lineNumber: Int, column: Int) {
        self.instructionOffset = instructionOffset
        self.fileName = fileName
        self.line = line
        self.lineNumber = lineNumber
        self.column = column
    }
}

/// A CO-RE relocation record: which instruction to patch, the local root type, the access string
/// (colon-separated indices) and what to compute.
public struct BTFCoreRelocation: Hashable, Sendable {
    /// The byte offset in the ELF section, as stored (a multiple of 8).
    public let instructionOffset: Int
    /// The local root type id.
    public let typeID: UInt32
    public let accessString: String
    public let kind: BTFCoreRelocationKind

    /// The access string's indices (`"0:1:2"` → `[0, 1, 2]`); validated to parse.
    public var accessIndices: [Int] {
        accessString.split(separator: ":").compactMap { Int($0) }
    }

    public init(instructionOffset: Int, typeID: UInt32, accessString: String, kind: BTFCoreRelocationKind) {
        self.instructionOffset = instructionOffset
        self.typeID = typeID
        self.accessString = accessString
        self.kind = kind
    }
}

/// What a CO-RE relocation computes (`enum bpf_core_relo_kind`).
public enum BTFCoreRelocationKind: UInt32, Hashable, Sendable, CaseIterable {
    case fieldByteOffset = 0
    case fieldByteSize = 1
    case fieldExists = 2
    case fieldSigned = 3
    case fieldLShiftU64 = 4
    case fieldRShiftU64 = 5
    case typeIDLocal = 6
    case typeIDTarget = 7
    case typeExists = 8
    case typeSize = 9
    case enumValueExists = 10
    case enumValueValue = 11
    case typeMatches = 12

    /// The tag llvm-objdump prints for the kind (`byte_off`, `type_exists`, ...).
    public var objdumpTag: String {
        switch self {
        case .fieldByteOffset: "byte_off"
        case .fieldByteSize: "byte_sz"
        case .fieldExists: "field_exists"
        case .fieldSigned: "signed"
        case .fieldLShiftU64: "lshift_u64"
        case .fieldRShiftU64: "rshift_u64"
        case .typeIDLocal: "local_type_id"
        case .typeIDTarget: "target_type_id"
        case .typeExists: "type_exists"
        case .typeSize: "type_size"
        case .enumValueExists: "enumval_exists"
        case .enumValueValue: "enumval_value"
        case .typeMatches: "type_matches"
        }
    }

    /// Whether the relocation is about a field (its access string walks members and subscripts).
    public var isFieldRelocation: Bool { rawValue <= 5 }
    /// Whether the relocation is about a whole type.
    public var isTypeRelocation: Bool { (6...9).contains(rawValue) || self == .typeMatches }
    /// Whether the relocation is about an enumerator.
    public var isEnumRelocation: Bool { self == .enumValueExists || self == .enumValueValue }
}
