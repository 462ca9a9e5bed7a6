import BPFVM

/// A hook as the attach layer and the verifier see it: its name, its parameters with their BTF
/// types, its return type, the program kinds it allows, and whether (and within which range)
/// programs may replace its return value: the analogue of the kernel's `ALLOW_ERROR_INJECTION`
/// list. Every descriptor of a host refers to the host's BTF, which together they form.
public struct HookDescriptor: Sendable, CustomStringConvertible {
    /// One parameter: its name and BTF type, and how its register is widened into a slot.
    public struct Parameter: Sendable {
        public let name: String
        public let type: UInt32
        public let width: SlotWidth
    }

    public let name: String
    public let parameters: [Parameter]
    /// The BTF type of the return value (0: void).
    public let returnType: UInt32
    /// How the return value is widened into the return slot.
    public let returnWidth: SlotWidth
    /// The program kinds that may attach.
    public let allowedKinds: Set<AttachKind>
    /// The range programs may set the return value to (`fmod_ret`, `lsm`); nil: no override.
    public let overrideRange: ClosedRange<Int64>?

    /// The descriptor of `name`, whose prototype `btf` holds; refused when the prototype cannot
    /// be hooked (more than 6 parameters, a parameter or return value that is not an integer,
    /// an enum or a pointer).
    init(name: String, btf: BTF, allowedKinds: Set<AttachKind>, overrideRange: ClosedRange<Int64>?) throws(AttachError) {
        guard let function = btf.firstType(named: name, kind: .function), let proto = btf.functionProto(of: function.id) else {
            throw .hookNotInHostBTF(name)
        }
        var parameters: [Parameter] = []
        for parameter in proto.parameters {
            guard let width = SlotWidth(of: parameter.type, in: btf), parameter.type != 0 else {
                throw .unsupportedPrototype(hook: name, reason: "parameter '\(parameter.name)' is not an integer, an enum or a pointer")
            }
            parameters.append(Parameter(name: parameter.name, type: parameter.type, width: width))
        }
        guard parameters.count <= 6 else {
            throw .unsupportedPrototype(hook: name, reason: "\(parameters.count) parameters; a hook passes at most 6, all in registers")
        }
        let returnWidth: SlotWidth
        if proto.returnType == 0 {
            returnWidth = .full
        } else if let width = SlotWidth(of: proto.returnType, in: btf) {
            returnWidth = width
        } else {
            throw .unsupportedPrototype(hook: name, reason: "the return type is not an integer, an enum or a pointer")
        }
        if proto.returnType == 0, overrideRange != nil {
            throw .unsupportedPrototype(hook: name, reason: "a void hook has no return value to override")
        }
        self.name = name
        self.parameters = parameters
        self.returnType = proto.returnType
        self.returnWidth = returnWidth
        self.allowedKinds = overrideRange == nil ? allowedKinds.subtracting([.fmodReturn, .lsm]) : allowedKinds
        self.overrideRange = overrideRange
    }

    public var returnsVoid: Bool { returnType == 0 }

    public var description: String {
        let kinds = AttachKind.allCases.filter(allowedKinds.contains).map(\.description).joined(separator: ",")
        let override = overrideRange.map { "override [\($0.lowerBound), \($0.upperBound)]" } ?? "no override"
        return "\(name)(\(parameters.map(\.name).joined(separator: ", "))): \(kinds); \(override)"
    }
}

/// How an integer of a hook's prototype fills a 64-bit slot: signed ones sign-extended,
/// unsigned ones (and pointers) zero-extended.
public enum SlotWidth: Sendable, Equatable {
    case signed(bytes: Int)
    case unsigned(bytes: Int)
    /// 8 bytes: the register as it is.
    case full

    init?(of type: UInt32, in btf: BTF) {
        switch btf.type(btf.skippingModifiersAndTypedefs(type))?.kind {
        case .int(let size, let encoding, _, _)?:
            self = size >= 8 ? .full : (encoding.isSigned ? .signed(bytes: size) : .unsigned(bytes: size))
        case .enumeration(let size, let isSigned, _)?, .enumeration64(let size, let isSigned, _)?:
            self = size >= 8 ? .full : (isSigned ? .signed(bytes: size) : .unsigned(bytes: size))
        case .pointer?:
            self = .full
        default:
            return nil
        }
    }
}

/// The program kinds that attach to hooks, as their sections name them.
public enum AttachKind: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case fentry, fexit, fmodReturn, lsm

    /// The kind of a hook program (nil for other kinds).
    public init?(_ kind: ProgramKind) {
        switch kind {
        case .fentry: self = .fentry
        case .fexit: self = .fexit
        case .fmodReturn: self = .fmodReturn
        case .lsm: self = .lsm
        case .testRun: return nil
        }
    }

    /// Runs after the original (in attach order with the other fexit-class programs).
    var isExitClass: Bool { self == .fexit || self == .lsm }
    /// Runs only while the return value is 0 (`lsm`).
    var isGated: Bool { self == .lsm }
    /// Its return value replaces the hook's (`fmod_ret` when non-zero, `lsm` always).
    var overrides: Bool { self == .fmodReturn || self == .lsm }

    /// As the section prefix names it (`fmod_ret`).
    public var description: String {
        let kind: ProgramKind = switch self {
        case .fentry: .fentry(hook: "")
        case .fexit: .fexit(hook: "")
        case .fmodReturn: .fmodReturn(hook: "")
        case .lsm: .lsm(hook: "")
        }
        return kind.description
    }
}
