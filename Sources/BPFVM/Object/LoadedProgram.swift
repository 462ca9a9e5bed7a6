/// A program of a loaded object, ready to run: linked, bound to its maps and helpers.
public final class LoadedProgram: @unchecked Sendable {
    /// The linked program as the linker produced it (maps referenced by index).
    public let linked: Program
    /// The maps its instructions refer to, in `linked.metadata.maps` order.
    public let maps: [Map]
    /// The interpreter bound to this program.
    public let interpreter: Interpreter
    /// The helpers the program was bound to (those its kind may call).
    public let helpers: HelperTable
    private unowned let object: LoadedObject

    /// Where it runs, which decides its context and the helpers it may call.
    public let kind: ProgramKind

    public var name: String { linked.metadata.name }

    /// The object the program belongs to (which it does not keep alive: whoever keeps the
    /// program running, as the attach layer does, must).
    package var loadedObject: LoadedObject { object }

    /// The contexts the verifier proved this program safe for (the verifier records them).
    package let proofs: Proofs

    /// The context of the program's object (what its helpers see), for other execution engines.
    package var executionContext: ExecutionContext { object.context }

    /// The program arrays of the program's object: where its tail calls may go.
    package var programArrays: [Map] { object.maps.filter { $0.definition.type == .programArray } }

    /// The programs of the program's object that are loaded (the targets its tail calls may reach).
    package var siblings: [LoadedProgram] { object.programs }

    /// `constants` gives the provenance of each `lddw` of a map or global variable in `bound`.
    init(linked: Program, kind: ProgramKind, bound: Program, maps: [Map], helpers: HelperTable,
         constants: [Int: Provenance], object: LoadedObject) throws(LoadError)
    {
        self.linked = linked
        self.kind = kind
        self.maps = maps
        self.helpers = helpers
        self.object = object
        var interpreter = try Interpreter(program: bound, helpers: helpers, maps: object.mapLayouts,
                                          constants: constants)
        // Tail calls go only through this object's program arrays, to programs of this object;
        // an unchecked run goes only to programs proven safe for every context this one was
        // (a program array may hold any program of the object, verified or not).
        let programArrays = Dictionary(
            object.maps.filter { $0.definition.type == .programArray }
                .map { (UInt64(UInt(bitPattern: $0.opaquePointer)), $0) },
            uniquingKeysWith: { first, _ in first })
        let proofs = Proofs()
        self.proofs = proofs
        interpreter.tailCallResolver = { [unowned object] pointer, index, unchecked in
            guard let map = programArrays[pointer], index < UInt64(map.definition.maxEntries),
                  let target = map.program(at: Int(index)) as? LoadedProgram, target.object === object,
                  !unchecked || target.proofs.cover(everyContextOf: proofs)
            else { return nil }
            return target.interpreter.code
        }
        self.interpreter = interpreter
    }

    /// Runs in checked mode with r1-r5 = `arguments`; `regions` lists the memory they point to
    /// (see `Interpreter.run(arguments:regions:context:)` for what a checked run may reach).
    public func run(arguments: [UInt64], regions: [MemoryRegion] = []) throws(ExecutionError) -> UInt64 {
        try run(arguments: arguments, regions: regions, checked: true)
    }

    /// `run` in checked mode, or unchecked: only for programs the verifier accepted (the
    /// `Verifier` module's `VerifiedProgram` is the public way to run one).
    package func run(arguments: [UInt64], regions: [MemoryRegion], checked: Bool) throws(ExecutionError)
        -> UInt64
    {
        if checked {
            return try interpreter.run(arguments: arguments, regions: regions, context: object.context)
        }
        return try interpreter.runTrusted(arguments: arguments, context: object.context)
    }

    /// Runs the program the way the kernel's `BPF_PROG_TEST_RUN` feeds its type: for `xdp`,
    /// `input` is the packet and the context is a `struct xdp_md` pointing at it (data,
    /// data_end, data_meta, ingress_ifindex 1, rx_queue_index 0, egress_ifindex 0); for every
    /// other kind (hook programs included), `input` is the context memory itself. Returns r0 and the input afterwards
    /// (programs may rewrite packets and contexts). Runs in checked mode.
    public func testRun(input: [UInt8]) throws(TestRunError) -> (result: UInt64, output: [UInt8]) {
        try testRun(input: input, checked: true)
    }

    /// `testRun` in checked mode or unchecked (only for verified programs).
    package func testRun(input: [UInt8], checked: Bool) throws(TestRunError) -> (result: UInt64, output: [UInt8]) {
        try testRun(input: input) { (arguments, regions) throws(ExecutionError) in
            try run(arguments: arguments, regions: regions, checked: checked)
        }
    }

    /// `testRun` by another execution engine: `engine` runs the program with r1-r5 = its
    /// arguments over the memory regions given (as `run(arguments:regions:)`), returning r0.
    package func testRun(input: [UInt8],
                         engine: (_ arguments: [UInt64], _ regions: [MemoryRegion]) throws(ExecutionError) -> UInt64)
        throws(TestRunError) -> (result: UInt64, output: [UInt8])
    {
        guard kind == .testRun(type: "xdp") else {
            var memory = input
            let result = memory.withUnsafeMutableBytes { buffer in
                Result { () throws(ExecutionError) -> UInt64 in
                    let region = buffer.count == 0 ? nil : buffer
                    return try engine(Interpreter.memoryArguments(region), region.map { [MemoryRegion($0)] } ?? [])
                }
            }
            switch result {
            case .success(let value): return (value, memory)
            case .failure(let error): throw .trapped(error)
            }
        }
        guard let packet = PacketBuffer(input) else { throw .noLowMemory }
        var context = [UInt8](repeating: 0, count: 24)
        withUnsafeBytes(of: packet.address(0).littleEndian) { context.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: packet.address(input.count).littleEndian) { context.replaceSubrange(4..<8, with: $0) }
        withUnsafeBytes(of: packet.address(0).littleEndian) { context.replaceSubrange(8..<12, with: $0) }
        context[12] = 1
        let result = context.withUnsafeMutableBytes { buffer in
            Result { () throws(ExecutionError) -> UInt64 in
                try engine([UInt64(UInt(bitPattern: buffer.baseAddress)), UInt64(buffer.count)],
                           [MemoryRegion(buffer), MemoryRegion(packet.bytes)])
            }
        }
        switch result {
        case .success(let value): return (value, Array(packet.bytes))
        case .failure(let error): throw .trapped(error)
        }
    }

    /// Runs in checked mode with the context `memory` (r1 = its address, r2 = its length, as a test run does).
    public func run(memory: UnsafeMutableRawBufferPointer?) throws(ExecutionError) -> UInt64 {
        try run(memory: memory, checked: true)
    }

    /// `run(memory:)` in checked mode or unchecked (only for verified programs).
    package func run(memory: UnsafeMutableRawBufferPointer?, checked: Bool) throws(ExecutionError) -> UInt64 {
        try run(arguments: Interpreter.memoryArguments(memory), regions: memory.map { [MemoryRegion($0)] } ?? [],
                checked: checked)
    }
}

/// Why a test run did not return.
public enum TestRunError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The program trapped (checked mode) or made a call that cannot be made.
    case trapped(ExecutionError)
    /// No memory below 4 GiB could be mapped for an XDP packet.
    case noLowMemory
    /// An unchecked run was given less context memory than the program was verified for.
    case contextTooSmall(given: Int, verified: Int)
    /// A hook argument slot holds a value its type cannot have (an int not sign-extended, a
    /// return value outside the range the program was verified for).
    case invalidArgument(slot: Int, value: UInt64)
    /// The engine cannot check that the context is what the program was verified for.
    case uncheckedContext(String)

    public var description: String {
        switch self {
        case .trapped(let error): "trap at \(error)"
        case .noLowMemory: "cannot map packet memory below 4 GiB for the xdp_md context"
        case .invalidArgument(let slot, let value):
            "argument slot \(slot) holds 0x\(String(value, radix: 16)), which its type cannot hold"
        case .contextTooSmall(let given, let verified):
            "the context is \(given) bytes, but the program was verified for \(verified)"
        case .uncheckedContext(let why):
            "cannot run unchecked: \(why)"
        }
    }
}
