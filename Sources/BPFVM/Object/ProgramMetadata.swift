/// What a linked program knows about itself beyond its instructions: its name, section and kind,
/// its license, the functions it is made of (with their BTF prototypes), its source line table
/// and the maps its `lddw` instructions refer to by index.
public struct ProgramMetadata: Hashable, Sendable {
    public var name: String
    public var section: String
    /// The kind of program, or nil when its section names none this runtime runs (a kernel-only section such as
    /// `freplace/`, or one libbpf does not recognise): such a program links, for inspection, but never loads.
    public var kind: ProgramKind?
    public var license: String
    /// The functions of the linked program in order: the entry point first, then the appended subprograms.
    public var functions: [FunctionInfo]
    /// Source lines in instruction order (several records may share an instruction).
    public var lines: [LineInfo]
    /// The maps (including global-data maps) that `lddw` map forms name by index.
    public var maps: [String]

    public init(name: String, section: String, kind: ProgramKind?, license: String = "",
                functions: [FunctionInfo] = [], lines: [LineInfo] = [], maps: [String] = [])
    {
        self.name = name
        self.section = section
        self.kind = kind
        self.license = license
        self.functions = functions
        self.lines = lines
        self.maps = maps
    }

    /// A program with no metadata (assembled or raw code).
    public static let anonymous = ProgramMetadata(name: "", section: "", kind: .testRun(type: "raw"))
}

/// One function of a linked program: where it starts and its BTF `FUNC` type (0 when unknown).
public struct FunctionInfo: Hashable, Sendable {
    public var name: String
    public var instructionIndex: Int
    public var typeID: UInt32

    public init(name: String, instructionIndex: Int, typeID: UInt32) {
        self.name = name
        self.instructionIndex = instructionIndex
        self.typeID = typeID
    }
}

/// One source line record: the instruction it describes and where in the source it comes from.
public struct LineInfo: Hashable, Sendable {
    public var instructionIndex: Int
    public var fileName: String
    public var source: String
    public var lineNumber: Int
    public var column: Int

    public init(instructionIndex: Int, fileName: String, source: String, lineNumber: Int, column: Int) {
        self.instructionIndex = instructionIndex
        self.fileName = fileName
        self.source = source
        self.lineNumber = lineNumber
        self.column = column
    }
}
