import BPFVM

/// Everything a program is verified against besides its instructions: its kind (which decides
/// the helpers it may call and the range its return value must lie in), the layout of its
/// context, the maps its `lddw` instructions name, and the helpers' prototypes.
public struct VerificationEnvironment: Sendable {
    public var kind: ProgramKind
    public var context: ContextLayout
    /// The maps `lddw map_idx N` and `lddw map_idx_value N` name, by index.
    public var maps: [MapDefinition]
    /// The helpers the program may call, with the prototypes its calls are checked against.
    public var helpers: HelperTable
    /// The one value of each single-entry array map (by index in `maps`) that programs may only read
    /// (`BPF_F_RDONLY_PROG`) and the host may no longer change (frozen, as `.rodata` is once loaded): a
    /// constant string argument (a format, `strncmp`'s second string) must lie in one, NUL-terminated, as
    /// the kernel reads such maps at verification.
    public var frozenValues: [Int: [UInt8]]
    /// The range a hook that programs may override allows its return value to take (the
    /// attach layer's descriptor): an `lsm` or `fmod_ret` program must return inside it (nil:
    /// the kind's own range, [-4095, 0] for `lsm`, anything for `fmod_ret`).
    package var overrideRange: ClosedRange<Int64>?

    /// `helpers` defaults to the standard helpers available to `kind`.
    public init(kind: ProgramKind = .testRun(type: "socket"), context: ContextLayout = .memory(size: 64),
                maps: [MapDefinition] = [], helpers: HelperTable? = nil, frozenValues: [Int: [UInt8]] = [:])
    {
        self.kind = kind
        self.context = context
        self.maps = maps
        self.helpers = helpers ?? StandardHelpers.table.available(to: kind)
        self.frozenValues = frozenValues
    }

    /// The range r0 must lie in when the program exits (nil: any value).
    var returnRange: ClosedRange<Int64>? {
        switch kind {
        case .fentry, .fexit: 0...0
        case .lsm:
            if case .hookArguments(let hook) = context, hook.returnsVoid { nil } else { overrideRange ?? -4095...0 }
        case .fmodReturn: overrideRange
        case .testRun: nil
        }
    }

    /// Whether the return range is checked on the low 32 bits (as the kernel checks LSM returns):
    /// for `lsm`, and for `fmod_ret` on a hook with an override range, whose trampoline takes
    /// the override as a 32-bit value, sign-extended.
    var checksReturnOn32Bits: Bool {
        switch kind {
        case .lsm: true
        case .fmodReturn: overrideRange != nil
        default: false
        }
    }

    /// Whether the return value slot follows the arguments in the context (fexit-class kinds).
    var hasReturnSlot: Bool {
        switch kind {
        case .fexit, .fmodReturn, .lsm: true
        case .fentry, .testRun: false
        }
    }
}

/// What a program's context (r1 at entry) is.
public enum ContextLayout: Sendable {
    /// Raw memory of `size` bytes the program may read and write (test runs of the kernel's
    /// program types, and the conformance convention, where r2 holds the size when
    /// `lengthInR2`).
    case memory(size: Int, lengthInR2: Bool = false)
    /// `struct xdp_md`: 32-bit `data`, `data_end` and `data_meta` fields that load as packet
    /// pointers, then `ingress_ifindex`, `rx_queue_index`, `egress_ifindex`.
    case xdp
    /// The `u64` argument slots of a hook, typed by its BTF prototype (read-only).
    case hookArguments(HookPrototype)

    /// The readable part of `struct xdp_md` for plain xdp programs: `egress_ifindex` (at 20) is
    /// only for devmap programs.
    static let xdpReadableSize = 20
}

/// A hook's BTF function prototype: its name, its parameters' types and its return type, in
/// the BTF that defines them (the host's).
public struct HookPrototype: Sendable {
    public let name: String
    public let btf: BTF
    /// The BTF type of each parameter, in order.
    public let parameters: [UInt32]
    /// The return type (0 for void).
    public let returnType: UInt32

    /// The prototype of the function `name` in `btf`.
    public init(function name: String, in btf: BTF) throws(VerifierError) {
        guard let function = btf.firstType(named: name, kind: .function),
              let proto = btf.functionProto(of: function.id)
        else { throw VerifierError(.hookNotFound(name), at: nil) }
        self.name = name
        self.btf = btf
        self.parameters = proto.parameters.map(\.type)
        self.returnType = proto.returnType
    }

    var returnsVoid: Bool { returnType == 0 }

    /// What a whole scalar slot may hold: an integer parameter widened to 64 bits (signed ones
    /// sign-extended, unsigned ones zero-extended), or anything.
    func slotScalar(_ slot: Int) -> Scalar {
        if pointee(ofSlot: slot) != nil { return .unknown }
        let type = slot < parameters.count ? parameters[slot] : returnType
        switch btf.type(btf.skippingModifiersAndTypedefs(type))?.kind {
        case .int(let size, let encoding, _, _)? where size < 8:
            return encoding.isSigned ? .signed(bytes: size) : .unsigned(bytes: size)
        case .enumeration(let size, let isSigned, _)? where size < 8:
            return isSigned ? .signed(bytes: size) : .unsigned(bytes: size)
        default:
            return .unknown
        }
    }

    /// The struct a parameter or return slot points to (its BTF id after modifiers), if the
    /// slot holds a pointer; nil for scalars.
    func pointee(ofSlot slot: Int) -> UInt32? {
        let type = slot < parameters.count ? parameters[slot] : returnType
        guard case .pointer(let target)? = btf.type(btf.skippingModifiersAndTypedefs(type))?.kind else { return nil }
        return btf.skippingModifiersAndTypedefs(target)
    }
}
