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
    /// The instructions the loader poisoned, in index order: what they needed (a CO-RE relocation's
    /// field, a weak kfunc) does not exist here. See ``PoisonedInstruction``.
    public var poisoned: [PoisonedInstruction]

    public init(name: String, section: String, kind: ProgramKind?, license: String = "",
                functions: [FunctionInfo] = [], lines: [LineInfo] = [], maps: [String] = [],
                poisoned: [PoisonedInstruction] = [])
    {
        self.name = name
        self.section = section
        self.kind = kind
        self.license = license
        self.functions = functions
        self.lines = lines
        self.maps = maps
        self.poisoned = poisoned
    }

    /// Why the instruction at `index` was poisoned, if it was.
    public func poisonReason(at index: Int) -> String? {
        poisoned.first(where: { $0.instructionIndex == index })?.reason
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

/// An instruction the loader replaced, as libbpf does, by a call to a helper that does not exist,
/// because what it needs cannot be resolved here: a CO-RE relocation whose field or enumerator
/// the target BTF lacks (or whose field changed size in a way a load cannot follow), or a call
/// of a weak kfunc. Such an instruction fails only if it runs: a program guarded by
/// `bpf_core_field_exists` or `if (kfunc)` never reaches it.
///
/// **Encoding** (libbpf's, so that tools recognise it): `call` (opcode 0x85) with dst, src and
/// offset 0 and the immediate ``coreImmediate`` (0xbad2310, "bad relo") for CO-RE, or
/// ``kfuncImmediateBase`` plus the extern's index for a weak kfunc; both slots of a poisoned
/// `lddw` are poisoned. The kernel's verifier reports a reachable one as "invalid func
/// unknown#195896080"; checked runs trap there naming the ``reason``.
public struct PoisonedInstruction: Hashable, Sendable {
    public var instructionIndex: Int
    /// What was not found, naming the relocation or the extern.
    public var reason: String

    public init(instructionIndex: Int, reason: String) {
        self.instructionIndex = instructionIndex
        self.reason = reason
    }

    /// The immediate of a poisoned CO-RE instruction (libbpf's 0xbad2310).
    public static let coreImmediate: Int32 = 0xbad2310
    /// The immediate of a poisoned kfunc call is this plus the extern's index (libbpf's
    /// `POISON_CALL_KFUNC_BASE`).
    public static let kfuncImmediateBase: Int32 = 2_000_000_000

    /// Whether `instruction` has the poisoned form (a `call` of one of the poison immediates).
    public static func isPoisoned(_ instruction: Instruction) -> Bool {
        instruction.opcode == 0x85 && instruction.registers == 0 && instruction.offset == 0
            && (instruction.imm == coreImmediate || instruction.imm >= kfuncImmediateBase)
    }

    /// The poisoned form of a call with immediate `imm`.
    static func instruction(imm: Int32) -> Instruction {
        Instruction(opcode: 0x85, imm: imm)
    }
}
