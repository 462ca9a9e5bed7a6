/// An object opened for running, as libbpf's `bpf_object`: its maps exist (global-data maps
/// hold the sections' initial bytes), the host may read and set global variables (`.rodata`
/// only until `load()`), and after `load()` every program is linked, bound to its maps and
/// helpers, and ready to run.
public final class LoadedObject: @unchecked Sendable {
    public let object: Object
    /// The maps in declaration order: BTF-defined maps first, then global-data maps.
    public let maps: [Map]
    /// The helpers programs may call.
    public let helpers: HelperTable
    /// The context helpers see during runs of this object's programs (printk output goes to its trace).
    public let context: ExecutionContext
    /// The programs, after `load()`.
    public private(set) var programs: [LoadedProgram] = []

    /// Creates the object's maps. `helpers` defaults to the standard helpers.
    public init(_ object: Object, helpers: HelperTable = StandardHelpers.table,
                context: ExecutionContext = ExecutionContext()) throws(ObjectError)
    {
        self.object = object
        self.helpers = helpers
        self.context = context
        var maps: [Map] = []
        for declaration in object.maps {
            do {
                maps.append(try Map(declaration.definition))
            } catch {
                throw .invalidMap(name: declaration.definition.name, reason: "\(error)")
            }
        }
        for data in object.globalData {
            let definition = MapDefinition(
                name: data.mapName, type: .array, keySize: 4, valueSize: max(data.initialBytes.count, 1), maxEntries: 1,
                flags: data.isReadOnly ? 0x480 : 0x400)  // BPF_F_MMAPABLE, plus BPF_F_RDONLY_PROG for .rodata
            do {
                let map = try Map(definition)
                if !data.initialBytes.isEmpty { try map.update([0, 0, 0, 0], data.initialBytes) }
                maps.append(map)
            } catch {
                throw .invalidMap(name: data.mapName, reason: "\(error)")
            }
        }
        self.maps = maps
    }

    deinit {
        // A program array holds its programs strongly and each program's interpreter holds the
        // object's maps: break that cycle.
        for map in maps where map.definition.type == .programArray { map.removeAllPrograms() }
    }

    /// Whether `load()` has run.
    public private(set) var isLoaded = false

    /// The map named `name` (a BTF map's name, or a global-data map by its map name or section name).
    public func map(named name: String) -> Map? {
        if let map = maps.first(where: { $0.definition.name == name }) { return map }
        if let data = object.globalData.first(where: { $0.sectionName == name }) {
            return maps.first(where: { $0.definition.name == data.mapName })
        }
        return nil
    }

    /// The global variable `name`: its section and its place there.
    public func variable(named name: String) -> (section: GlobalDataSection, variable: GlobalVariable)? {
        for section in object.globalData {
            if let variable = section.variables.first(where: { $0.name == name }) { return (section, variable) }
        }
        return nil
    }

    /// The current bytes of global variable `name`.
    public func global(_ name: String) -> [UInt8]? {
        guard let (section, variable) = variable(named: name), let map = map(named: section.mapName),
              let value = map.lookup([0, 0, 0, 0]) else { return nil }
        return Array(value[variable.offset..<(variable.offset + variable.size)])
    }

    /// Sets global variable `name` (its full size). `.rodata` variables may be set only before `load()`.
    public func setGlobal(_ name: String, to bytes: [UInt8]) throws(GlobalVariableError) {
        guard let (section, variable) = variable(named: name), let map = map(named: section.mapName) else {
            throw .noSuchVariable(name)
        }
        guard bytes.count == variable.size else { throw .wrongSize(name, expected: variable.size, given: bytes.count) }
        if section.isReadOnly && isLoaded { throw .readOnlyAfterLoad(name) }
        var zeroKey: UInt32 = 0
        guard let value = map.lookup(key: &zeroKey) else { throw .noSuchVariable(name) }
        bytes.withUnsafeBytes { (value + variable.offset).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    }

    /// Links every program (CO-RE against `targetBTF`, or the object's own BTF), resolves its map
    /// references, binds it to the helpers, fills program arrays declared with initial values, and
    /// freezes `.rodata`.
    public func load(targetBTF: BTF? = nil) throws(ObjectError) {
        guard !isLoaded else { return }
        var loaded: [LoadedProgram] = []
        for entry in object.programs {
            let linked = try Linker.link(object, program: entry.name, targetBTF: targetBTF)
            loaded.append(try bind(linked))
        }
        for declaration in object.maps where !declaration.initialPrograms.isEmpty {
            guard let map = map(named: declaration.definition.name) else { continue }
            for (slot, name) in declaration.initialPrograms {
                guard let program = loaded.first(where: { $0.name == name }) else {
                    throw .invalidMap(name: declaration.definition.name, reason: "initial value '\(name)' is not a program")
                }
                do { try map.setProgram(program, at: slot) } catch {
                    throw .invalidMap(name: declaration.definition.name, reason: "\(error)")
                }
            }
        }
        programs = loaded
        isLoaded = true
    }

    /// The loaded program named `name`.
    public func program(named name: String) throws(ObjectError) -> LoadedProgram {
        guard let program = programs.first(where: { $0.name == name }) else {
            throw .noSuchProgram(name, available: programs.map(\.name))
        }
        return program
    }

    /// The licenses the kernel counts as GPL-compatible (`license_is_gpl_compatible`).
    static let gplCompatibleLicenses: Set<String> = [
        "GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL",
    ]

    /// Replaces map references (`lddw` src 5 and 6) with the addresses of the maps and their values.
    private func bind(_ program: Program) throws(ObjectError) -> LoadedProgram {
        if !Self.gplCompatibleLicenses.contains(object.license) {
            for (index, operation) in program.operations {
                guard case .call(.helper(let id)) = operation, let helper = helpers[id], helper.isGPLOnly else { continue }
                throw .link(program: program.metadata.name, instruction: index,
                            reason: "bpf_\(helper.name) is GPL-only and the license \"\(object.license)\" is not GPL-compatible")
            }
        }
        var slots = program.instructions
        var referenced: [Map] = []
        for name in program.metadata.maps {
            guard let map = map(named: name) else {
                throw .link(program: program.metadata.name, instruction: 0, reason: "map '\(name)' does not exist")
            }
            referenced.append(map)
        }
        for (index, operation) in program.operations {
            guard case .loadImmediate64(let kind, _, let value) = operation else { continue }
            let mapIndex = Int(UInt32(truncatingIfNeeded: value))
            let address: UInt64
            switch kind {
            case .mapByIndex:
                address = UInt64(UInt(bitPattern: referenced[mapIndex].opaquePointer))
            case .mapValueByIndex:
                var zeroKey: UInt32 = 0
                guard let base = referenced[mapIndex].lookup(key: &zeroKey) else {
                    throw .link(program: program.metadata.name, instruction: index, reason: "global data map has no value")
                }
                address = UInt64(UInt(bitPattern: base)) + (value >> 32)
            default:
                continue
            }
            slots[index].registers &= 0x0f
            slots[index].imm = Int32(truncatingIfNeeded: address)
            slots[index + 1].imm = Int32(truncatingIfNeeded: address >> 32)
        }
        let bound: Program
        do { bound = try Program(instructions: slots, metadata: program.metadata) } catch {
            throw .invalidInstructions(program: program.metadata.name, error)
        }
        do {
            return try LoadedProgram(linked: program, bound: bound, maps: referenced, helpers: helpers, object: self)
        } catch {
            throw .link(program: program.metadata.name, instruction: error.index, reason: "\(error)")
        }
    }
}

/// Why a test run did not return.
public enum TestRunError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The program trapped (checked mode) or made a call that cannot be made.
    case trapped(ExecutionError)
    /// No memory below 4 GiB could be mapped for an XDP packet.
    case noLowMemory

    public var description: String {
        switch self {
        case .trapped(let error): "trap at \(error)"
        case .noLowMemory: "cannot map packet memory below 4 GiB for the xdp_md context"
        }
    }
}

/// Why a global variable cannot be set.
public enum GlobalVariableError: Error, Hashable, Sendable, CustomStringConvertible {
    case noSuchVariable(String)
    case wrongSize(String, expected: Int, given: Int)
    case readOnlyAfterLoad(String)

    public var description: String {
        switch self {
        case .noSuchVariable(let name): "no global variable named '\(name)'"
        case let .wrongSize(name, expected, given): "'\(name)' is \(expected) bytes, \(given) given"
        case .readOnlyAfterLoad(let name): "'\(name)' is in .rodata and the object is loaded; set it before load()"
        }
    }
}

/// A program of a loaded object, ready to run: linked, bound to its maps and helpers.
public final class LoadedProgram: @unchecked Sendable {
    /// The linked program as the linker produced it (maps referenced by index).
    public let linked: Program
    /// The maps its instructions refer to, in `linked.metadata.maps` order.
    public let maps: [Map]
    /// The interpreter bound to this program.
    public private(set) var interpreter: Interpreter
    private unowned let object: LoadedObject

    public var name: String { linked.metadata.name }
    public var kind: ProgramKind { linked.metadata.kind }

    init(linked: Program, bound: Program, maps: [Map], helpers: HelperTable, object: LoadedObject) throws(LoadError) {
        self.linked = linked
        self.maps = maps
        self.object = object
        self.interpreter = try Interpreter(program: bound, helpers: helpers)
        let mapsByPointer = Dictionary(object.maps.map { (UInt64(UInt(bitPattern: $0.opaquePointer)), $0) },
                                       uniquingKeysWith: { first, _ in first })
        interpreter.mapSizes = { pointer in
            mapsByPointer[pointer].map { ($0.definition.keySize, $0.definition.valueSize) }
        }
        interpreter.tailCallResolver = { pointer, index in
            guard let map = mapsByPointer[pointer], map.definition.type == .programArray,
                  index < UInt64(map.definition.maxEntries) else { return nil }
            return (map.program(at: Int(index)) as? LoadedProgram)?.interpreter.code.start
        }
    }

    /// The memory a checked run of this program may touch besides its stack and context: the
    /// value storage of every map of the object (helpers hand out pointers into it).
    var mapRegions: [MemoryRegion] { object.maps.flatMap(\.valueRegions) }

    /// Runs with r1-r5 = `arguments`; `regions` lists the memory they point to. Checked mode by
    /// default; trusted mode only for verified programs.
    public func run(arguments: [UInt64], regions: [MemoryRegion] = [], checked: Bool = true) throws(ExecutionError)
        -> UInt64
    {
        if checked {
            return try interpreter.run(arguments: arguments, regions: regions + mapRegions, context: object.context)
        }
        return try interpreter.runTrusted(arguments: arguments, context: object.context)
    }

    /// Runs a test-run program the way the kernel's `BPF_PROG_TEST_RUN` feeds its type: for
    /// `xdp`, `input` is the packet and the context is a `struct xdp_md` pointing at it (data,
    /// data_end, data_meta, ingress_ifindex 1, rx_queue_index 0, egress_ifindex 0); for every
    /// other type, `input` is the context memory itself. Returns r0 and the input afterwards
    /// (programs may rewrite packets and contexts).
    public func testRun(input: [UInt8], checked: Bool = true) throws(TestRunError) -> (result: UInt64, output: [UInt8]) {
        guard kind == .testRun(type: "xdp") else {
            var memory = input
            let result = memory.withUnsafeMutableBytes { buffer in
                Result { () throws(ExecutionError) -> UInt64 in
                    try run(memory: buffer.count == 0 ? nil : buffer, checked: checked)
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
                try run(arguments: [UInt64(UInt(bitPattern: buffer.baseAddress)), UInt64(buffer.count)],
                        regions: [MemoryRegion(buffer), MemoryRegion(packet.bytes)], checked: checked)
            }
        }
        switch result {
        case .success(let value): return (value, Array(packet.bytes))
        case .failure(let error): throw .trapped(error)
        }
    }

    /// Runs with the context `memory` (r1 = its address, r2 = its length, as a test run does).
    public func run(memory: UnsafeMutableRawBufferPointer?, checked: Bool = true) throws(ExecutionError) -> UInt64 {
        let arguments: [UInt64] = memory.flatMap { buffer in
            buffer.baseAddress.map { [UInt64(UInt(bitPattern: $0)), UInt64(buffer.count)] }
        } ?? [0, 0]
        return try run(arguments: arguments, regions: memory.map { [MemoryRegion($0)] } ?? [], checked: checked)
    }
}
