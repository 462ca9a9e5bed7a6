/// What a BTF type is, with the kind-specific data decoded: referenced type ids, sizes in bytes,
/// members, enumerators, parameters and DATASEC entries (those read from the type's record as they
/// are accessed). Type ids index `BTF.types`.
public enum BTFKind: Hashable, Sendable {
    /// Type id 0, the only type that is not stored.
    case void
    /// An integer of `size` bytes whose value is `bits` bits at bit `offset`.
    case int(size: Int, encoding: BTFIntEncoding, offset: Int, bits: Int)
    case pointer(to: UInt32)
    /// `count` elements (0 for a flexible or zero-length array) indexed by an INT `index`.
    case array(element: UInt32, index: UInt32, count: Int)
    case structure(size: Int, members: BTFComponents<BTFMember>)
    case union(size: Int, members: BTFComponents<BTFMember>)
    /// An ENUM: values stored in 32 bits (`size` is the C type's size, 1 to 8 bytes).
    case enumeration(size: Int, isSigned: Bool, values: BTFComponents<BTFEnumValue>)
    /// An ENUM64: values stored in 64 bits.
    case enumeration64(size: Int, isSigned: Bool, values: BTFComponents<BTFEnumValue>)
    /// A forward declaration of a struct or union.
    case forward(isUnion: Bool)
    case typedef(UInt32)
    case volatile(UInt32)
    case const(UInt32)
    case restrict(UInt32)
    /// A function: its FUNC_PROTO and linkage.
    case function(proto: UInt32, linkage: BTFFunctionLinkage)
    /// A function signature; a last parameter of type 0 marks varargs.
    case functionProto(returnType: UInt32, parameters: BTFComponents<BTFParameter>)
    case variable(type: UInt32, linkage: BTFVariableLinkage)
    /// The variables (or extern functions) of one ELF data section; `size` is 0 before the loader
    /// fixes it up.
    case dataSection(size: Int, variables: BTFComponents<BTFDataSectionVariable>)
    case float(size: Int)
    /// A declaration tag on a type (`componentIndex` -1) or on one of its members or parameters.
    case declTag(type: UInt32, componentIndex: Int)
    case typeTag(UInt32)

    /// The kind without its data.
    public var code: Code {
        switch self {
        case .void: .void
        case .int: .int
        case .pointer: .pointer
        case .array: .array
        case .structure: .structure
        case .union: .union
        case .enumeration: .enumeration
        case .enumeration64: .enumeration64
        case .forward: .forward
        case .typedef: .typedef
        case .volatile: .volatile
        case .const: .const
        case .restrict: .restrict
        case .function: .function
        case .functionProto: .functionProto
        case .variable: .variable
        case .dataSection: .dataSection
        case .float: .float
        case .declTag: .declTag
        case .typeTag: .typeTag
        }
    }

    /// The type a reference kind (pointer, typedef, qualifiers, type tag, variable, FUNC, decl tag) refers to.
    public var referencedType: UInt32? {
        switch self {
        case .pointer(let id), .typedef(let id), .volatile(let id), .const(let id), .restrict(let id),
             .typeTag(let id), .variable(let id, _), .function(let id, _), .declTag(let id, _):
            id
        default:
            nil
        }
    }

    /// Whether this is a typedef, a qualifier or a type tag: something `skippingModifiersAndTypedefs` skips.
    public var isModifier: Bool {
        switch self {
        case .typedef, .volatile, .const, .restrict, .typeTag: true
        default: false
        }
    }

    /// The BTF kind number (`BTF_KIND_*`), as stored in `info` bits 24-28.
    public enum Code: UInt8, Hashable, Sendable, CaseIterable {
        case void = 0, int, pointer, array, structure, union, enumeration, forward, typedef, volatile, const,
             restrict, function, functionProto, variable, dataSection, float, declTag, typeTag, enumeration64

        /// The kernel's name of the kind (`INT`, `STRUCT`, ...), as bpftool prints it; `UNKNOWN` for void.
        public var name: String {
            switch self {
            case .void: "UNKNOWN"
            case .int: "INT"
            case .pointer: "PTR"
            case .array: "ARRAY"
            case .structure: "STRUCT"
            case .union: "UNION"
            case .enumeration: "ENUM"
            case .forward: "FWD"
            case .typedef: "TYPEDEF"
            case .volatile: "VOLATILE"
            case .const: "CONST"
            case .restrict: "RESTRICT"
            case .function: "FUNC"
            case .functionProto: "FUNC_PROTO"
            case .variable: "VAR"
            case .dataSection: "DATASEC"
            case .float: "FLOAT"
            case .declTag: "DECL_TAG"
            case .typeTag: "TYPE_TAG"
            case .enumeration64: "ENUM64"
            }
        }
    }
}

/// How an INT's bits are interpreted (`BTF_INT_ENCODING`); at most one flag is allowed.
public enum BTFIntEncoding: UInt8, Hashable, Sendable {
    case none = 0
    case signed = 1
    case char = 2
    case bool = 4

    /// Whether the integer is signed.
    public var isSigned: Bool { self == .signed }

    /// bpftool's name: `(none)`, `SIGNED`, `CHAR` or `BOOL`.
    public var name: String {
        switch self {
        case .none: "(none)"
        case .signed: "SIGNED"
        case .char: "CHAR"
        case .bool: "BOOL"
        }
    }
}

/// A FUNC's linkage, stored in its `vlen`.
public enum BTFFunctionLinkage: UInt16, Hashable, Sendable {
    case `static` = 0
    case global = 1
    /// Declared but defined elsewhere (`__ksym` kernel functions); never in a kernel-loaded BTF.
    case external = 2

    /// bpftool's name: `static`, `global` or `extern`.
    public var name: String {
        switch self {
        case .static: "static"
        case .global: "global"
        case .external: "extern"
        }
    }
}

/// A VAR's linkage.
public enum BTFVariableLinkage: UInt32, Hashable, Sendable {
    case `static` = 0
    /// A global variable allocated in this object.
    case global = 1
    /// Declared but defined elsewhere (`__kconfig`, `__ksym`).
    case external = 2

    /// bpftool's name: `static`, `global` or `extern`.
    public var name: String {
        switch self {
        case .static: "static"
        case .global: "global"
        case .external: "extern"
        }
    }
}
