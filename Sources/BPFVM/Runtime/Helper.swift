/// The machine-level signature of every helper: the five BPF argument registers r1-r5 and the
/// execution context of the run (the host's opaque pointer), returning r0.
///
/// It is a C function pointer so that the interpreter and JIT-compiled code call the same function.
public typealias HelperFunction = @convention(c) (
    UInt64, UInt64, UInt64, UInt64, UInt64, UnsafeMutableRawPointer?
) -> UInt64

/// A function a BPF program may call with `call ID`: its id, its name, its prototype (what a
/// verifier checks) and its implementation: a C-convention function, or an operation the
/// execution engine performs itself because it changes the run's control flow.
public struct Helper: @unchecked Sendable {
    /// The id programs use in `call` instructions.
    public let id: Int32
    /// The name, as in `bpf_helper_defs.h` without the `bpf_` prefix.
    public let name: String
    /// The kinds of r1..rN, in order (helpers take at most five arguments).
    public let arguments: [HelperArgument]
    /// What r0 holds afterwards.
    public let returns: HelperReturn
    /// Whether only GPL-compatible programs may call it.
    public let isGPLOnly: Bool
    /// Which program kinds may call it.
    public let availability: HelperAvailability
    /// What carries the helper out: a function both execution engines call, or an operation
    /// the engine performs itself.
    public let implementation: Implementation

    /// How a helper is carried out: exactly one of the two.
    public enum Implementation: Sendable {
        case function(HelperFunction)
        case engine(EngineOperation)
    }

    /// The implementation both execution engines call (nil for an engine operation).
    public var function: HelperFunction? {
        if case .function(let function) = implementation { function } else { nil }
    }

    /// The operation the engine performs instead of calling a function, if any.
    public var operation: EngineOperation? {
        if case .engine(let operation) = implementation { operation } else { nil }
    }

    public init(id: Int32, name: String, arguments: [HelperArgument] = [], returns: HelperReturn = .integer,
                isGPLOnly: Bool = false, availability: HelperAvailability = .everyKind, function: @escaping HelperFunction)
    {
        self.init(id: id, name: name, arguments: arguments, returns: returns, isGPLOnly: isGPLOnly,
                  availability: availability, implementation: .function(function))
    }

    /// A helper the execution engine performs itself (`bpf_tail_call`, `bpf_loop`).
    public init(id: Int32, name: String, arguments: [HelperArgument], returns: HelperReturn = .integer,
                isGPLOnly: Bool = false, availability: HelperAvailability = .everyKind, operation: EngineOperation)
    {
        self.init(id: id, name: name, arguments: arguments, returns: returns, isGPLOnly: isGPLOnly,
                  availability: availability, implementation: .engine(operation))
    }

    private init(id: Int32, name: String, arguments: [HelperArgument], returns: HelperReturn, isGPLOnly: Bool,
                 availability: HelperAvailability, implementation: Implementation)
    {
        precondition(arguments.count <= 5, "a helper takes at most five arguments")
        self.id = id
        self.name = name
        self.arguments = arguments
        self.returns = returns
        self.isGPLOnly = isGPLOnly
        self.availability = availability
        self.implementation = implementation
    }
}

/// A helper whose work is a change of the run's control flow, which the execution engine
/// performs itself (each engine in its own way) rather than through a function call.
public enum EngineOperation: Hashable, Sendable {
    /// `bpf_tail_call(ctx, prog_array, index)`: continue in another program of the object,
    /// reusing the frame; falls through with -ENOENT when it cannot (at most 33 in a chain).
    case tailCall
    /// `bpf_loop(count, callback, ctx, flags)`: call a BPF function `count` times inside the
    /// same run (same instruction budget, same frame limit, same traps) until it returns non-zero.
    case loop
}

/// Which program kinds may call a helper, as the kernel gives each program type its own set.
public enum HelperAvailability: Hashable, Sendable {
    /// Every program kind.
    case everyKind
    /// Tracing and hook kinds only (`fentry`, `fexit`, `fmod_ret`, `lsm`, `kprobe`,
    /// `tracepoint`, ...): helpers that describe the calling thread, which networking kinds
    /// do not get.
    case tracing
    /// Tracing and hook kinds only, and only while the host allows it: helpers that read
    /// arbitrary memory of the host process (`probe_read*`). A fault reads as -EFAULT, never a
    /// crash, but what they read is whatever the address holds: a capability, not a sandbox.
    case hostMemoryReads
}

extension Helper {
    /// Whether the helper reads arbitrary host memory (`probe_read*`).
    public var readsHostMemory: Bool { availability == .hostMemoryReads }
}

/// The kind of one helper argument, as the kernel's `bpf_func_proto` names them.
public enum HelperArgument: Hashable, Sendable {
    /// Any value.
    case anything
    /// A pointer to a map (the value of an `lddw` of a map).
    case mapPointer
    /// A pointer to readable memory holding a key of the map in argument 0.
    case mapKey
    /// A pointer to readable memory holding a value of the map in argument 0.
    case mapValue
    /// A pointer to writable memory of a value's size of the map in argument 0.
    case uninitializedMapValue
    /// A pointer to readable memory whose size is the next argument.
    case readableMemory
    /// A pointer to writable memory whose size is the next argument (it need not be initialised).
    case writableMemory
    /// The size of the memory in the previous argument (may be zero when `allowsZero`).
    case size(allowsZero: Bool)
    /// The program's context pointer.
    case context
    /// A BPF function (a code address from `lddw` of a function), called back by the helper.
    case callback
    /// A pointer returned by `ringbuf_reserve`.
    case ringBufferSample
    /// A pointer to a NUL-terminated constant string (a format).
    case constantString
    /// A scalar value (no pointer).
    case scalar
}

/// What a helper returns in r0.
public enum HelperReturn: Hashable, Sendable {
    /// An integer (often 0 or a negative errno).
    case integer
    /// A pointer to a value of the map in argument 0, or 0.
    case mapValueOrNull
    /// A pointer to ring buffer memory of the size in argument 1, or 0.
    case ringBufferMemoryOrNull
}

/// The helpers available to a program, by id.
///
/// Ids are non-negative and below `HelperTable.maximumID`, so that engines can resolve them
/// into a dense array once, before a run.
public struct HelperTable: Sendable {
    /// The largest helper id a table accepts.
    public static let maximumID: Int32 = 4095

    private var helpers: [Int32: Helper] = [:]

    /// The helper that stops the program when it returns 0 (r0 = 0), as uBPF's "unwind"
    /// helper does; bpf_conformance uses id 5 this way. `nil` for none.
    public var unwindHelperID: Int32?

    public init(_ helpers: [Helper] = []) {
        for helper in helpers { register(helper) }
    }

    /// Adds or replaces a helper. Ids outside 0...`maximumID` are a programming error.
    public mutating func register(_ helper: Helper) {
        precondition(helper.id >= 0 && helper.id <= Self.maximumID, "helper id \(helper.id) out of range")
        helpers[helper.id] = helper
    }

    /// The helper with `id`, if registered.
    public subscript(id: Int32) -> Helper? { helpers[id] }

    /// All helpers, sorted by id.
    public var all: [Helper] { helpers.values.sorted { $0.id < $1.id } }

    /// A dense id-indexed array of the helpers (nil where no helper is registered).
    func dense() -> [Helper?] {
        var table = [Helper?](repeating: nil, count: Int(helpers.keys.max().map { $0 + 1 } ?? 0))
        for (id, helper) in helpers { table[Int(id)] = helper }
        return table
    }

    /// The id of the helper performing `operation`, or `UInt64.max` for none.
    package func id(of operation: EngineOperation) -> UInt64 {
        helpers.values.first { $0.operation == operation }.map { UInt64($0.id) } ?? .max
    }

    /// The table without the helpers `kind` may not call (and, when `allowsHostMemoryReads`
    /// is false, without those that read arbitrary host memory).
    public func available(to kind: ProgramKind, allowsHostMemoryReads: Bool = true) -> HelperTable {
        var table = HelperTable(helpers.values.filter { helper in
            (helper.availability == .everyKind || kind.isTracing)
                && (allowsHostMemoryReads || !helper.readsHostMemory)
        })
        table.unwindHelperID = unwindHelperID
        return table
    }
}
