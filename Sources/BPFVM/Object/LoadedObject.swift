/// An object opened for running, as libbpf's `bpf_object`: its maps exist (global-data maps
/// hold the sections' initial bytes), the host may read and set global variables (`.rodata`
/// only until `load()`), and after `load()` the programs asked for are linked, bound to their
/// maps and helpers, and ready to run.
///
/// Maps this runtime cannot create (legacy definitions, types it does not implement) are left
/// out of ``maps``; only a program that uses one fails, when it is loaded.
public final class LoadedObject: @unchecked Sendable {
    public let object: Object
    /// The maps in declaration order: declared maps first (those this runtime creates), then global-data maps,
    /// then the maps the host added (``addMap(_:)``).
    public private(set) var maps: [Map]
    /// The helpers programs may call.
    public let helpers: HelperTable
    /// The context helpers see during runs of this object's programs (printk output goes to its trace).
    public let context: ExecutionContext
    /// Whether tracing programs may read arbitrary host memory (`probe_read*`); when false, a
    /// program that calls one fails to load.
    public let allowsHostMemoryReads: Bool
    /// The programs `load()` loaded, in the object's order.
    public private(set) var programs: [LoadedProgram] = []
    /// What checked runs know of `maps`, in the same order.
    private(set) var mapLayouts: [MapLayout]
    /// The maps of maps whose declared initial values (`__array(values, ...)`) are in place.
    private var filledMapsOfMaps: Set<String> = []

    /// Creates the object's maps. `helpers` defaults to the standard helpers; each program gets
    /// those its kind may call. `allowsHostMemoryReads: false` takes `probe_read*` away from
    /// every program: reading arbitrary memory of the host is a capability of tracing kinds,
    /// which a host that loads objects it does not trust can refuse. `__kconfig` externs read
    /// `kernelConfig` (by default no `CONFIG_*` options and libbpf's `LINUX_*` values).
    public init(_ object: Object, helpers: HelperTable = StandardHelpers.table,
                context: ExecutionContext = ExecutionContext(), allowsHostMemoryReads: Bool = true,
                kernelConfig: KernelConfig = KernelConfig()) throws(ObjectError)
    {
        self.object = object
        self.helpers = helpers
        self.context = context
        self.allowsHostMemoryReads = allowsHostMemoryReads
        var maps: [Map] = []
        for declaration in object.maps {
            guard let definition = try? declaration.runtimeDefinition() else { continue }
            do {
                maps.append(try Map(definition))
            } catch {
                throw .invalidMap(name: declaration.name, reason: error.problem)
            }
        }
        for data in object.globalData {
            let definition = MapDefinition(
                name: data.mapName, type: .array, keySize: 4, valueSize: max(data.initialBytes.count, 1), maxEntries: 1,
                flags: data.isReadOnly ? 0x480 : 0x400)  // BPF_F_MMAPABLE, plus BPF_F_RDONLY_PROG for .rodata
            let initialBytes = data.sectionIndex == GlobalDataSection.noSection
                ? try object.kernelConfigValues(kernelConfig) : data.initialBytes
            do {
                let map = try Map(definition)
                if !initialBytes.isEmpty { try map.update([0, 0, 0, 0], initialBytes) }
                maps.append(map)
            } catch {
                throw .invalidMap(name: data.mapName, reason: error.problem)
            }
        }
        guard maps.count <= maximumTrackedMaps else {
            throw .invalidMap(name: maps[maximumTrackedMaps].definition.name,
                              reason: "an object may have at most \(maximumTrackedMaps) maps, global data included")
        }
        self.maps = maps
        self.mapLayouts = maps.map(MapLayout.init)
    }

    /// Creates a map that is not in the object, for instance an inner map for a map of maps
    /// (`definition` from the outer map's ``MapDefinition/innerMap``, renamed), before `load()`:
    /// programs of the object see it through the maps of maps it is stored in, and checked runs
    /// know it as one of the object's maps. Its name must differ from every other map's.
    @discardableResult
    public func addMap(_ definition: MapDefinition) throws(ObjectError) -> Map {
        guard !isLoaded else {
            throw .invalidMap(name: definition.name, reason: "maps can be added only before load()")
        }
        guard !maps.contains(where: { $0.definition.name == definition.name }) else {
            throw .invalidMap(name: definition.name, reason: "another map of the object has the same name")
        }
        guard maps.count < maximumTrackedMaps else {
            throw .invalidMap(name: definition.name,
                              reason: "an object may have at most \(maximumTrackedMaps) maps, global data included")
        }
        let map: Map
        do { map = try Map(definition) } catch { throw .invalidMap(name: definition.name, reason: error.problem) }
        maps.append(map)
        mapLayouts.append(MapLayout(map))
        return map
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

    /// Loads programs: links each (CO-RE against `targetBTF`, or the object's own BTF), resolves
    /// its map references, binds it to the helpers its kind may call, then fills the program
    /// arrays and maps of maps the loaded programs use with the programs and maps libbpf puts
    /// there (`__array(values, ...)`; a map of maps is filled once, so that what the host stores
    /// in it later stays).
    ///
    /// `programs` names the programs to load. Each brings along what it references: its
    /// subprograms, its maps and globals, and every program its tail calls may reach through
    /// the program arrays it uses, transitively. The object's other programs are left aside,
    /// so their problems (an unsupported helper, a map this runtime cannot create, a kernel-only
    /// section) do not matter. nil loads every program, and fails if any fails. A later call
    /// loads more programs; a call that fails adds none of its programs to ``programs``.
    public func load(programs names: [String]? = nil, targetBTF: BTF? = nil) throws(ObjectError) {
        let requested = names ?? object.programs.map(\.name)
        for name in requested { _ = try object.program(named: name) }
        var queued = Set(programs.map(\.name))
        var queue = requested.filter { queued.insert($0).inserted }
        var loaded: [LoadedProgram] = []
        var programArrays: [MapDeclaration] = []
        var mapsOfMaps: [MapDeclaration] = []
        let target = targetBTF.map(CORETarget.init)
        while loaded.count < queue.count {
            let program = try bind(Linker.link(object, program: queue[loaded.count], target: target))
            loaded.append(program)
            for mapName in program.linked.metadata.maps {
                guard let declaration = object.maps.first(where: { $0.name == mapName }) else { continue }
                if declaration.type.runtimeType?.holdsMaps == true && !filledMapsOfMaps.contains(mapName)
                    && !mapsOfMaps.contains(declaration)
                {
                    mapsOfMaps.append(declaration)
                }
                guard declaration.type == .programArray, !programArrays.contains(declaration) else { continue }
                programArrays.append(declaration)
                for (_, target) in declaration.initialValues.sorted(by: { $0.key < $1.key }) {
                    guard object.programs.contains(where: { $0.name == target }) else {
                        throw .invalidMap(name: declaration.name, reason: "initial value '\(target)' is not a program")
                    }
                    if queued.insert(target).inserted { queue.append(target) }
                }
            }
        }
        try fillMapsOfMaps(mapsOfMaps)
        let all = programs + loaded
        for declaration in programArrays {
            guard let map = map(named: declaration.name) else { continue }
            for (slot, name) in declaration.initialValues {
                guard let program = all.first(where: { $0.name == name }) else { continue }
                do { try map.setProgram(program, at: slot) } catch {
                    throw .invalidMap(name: declaration.name, reason: error.problem)
                }
            }
        }
        programs = object.programs.compactMap { entry in all.first { $0.name == entry.name } }
        // As libbpf, read-only global data (`.rodata*`, `.kconfig`) is frozen once programs are loaded: what the
        // verifier reads from it (constant strings) stays true.
        for data in object.globalData where data.isReadOnly { map(named: data.mapName)?.freeze() }
        isLoaded = true
    }

    /// Stores in each map of maps the object's maps its declaration names (libbpf's
    /// `init_map_in_map_slots`); each must exist here and fit the outer map's template.
    private func fillMapsOfMaps(_ declarations: [MapDeclaration]) throws(ObjectError) {
        for declaration in declarations {
            guard let outer = map(named: declaration.name) else { continue }
            for (slot, name) in declaration.initialValues.sorted(by: { $0.key < $1.key }) {
                guard let inner = maps.first(where: { $0.definition.name == name }) else {
                    let reason = object.maps.first(where: { $0.name == name })?.unavailability
                        .map { "initial value '\(name)' cannot be created: \($0)" }
                    throw .invalidMap(name: declaration.name, reason: reason ?? "initial value '\(name)' is not a map")
                }
                do { try outer.setInnerMap(inner, at: UInt32(slot)) } catch {
                    throw .invalidMap(name: declaration.name, reason: error.problem)
                }
            }
            filledMapsOfMaps.insert(declaration.name)
        }
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

    /// Checks, without creating anything, what loading `program` (linked from `object`) needs
    /// beyond linking: its section names a kind this runtime runs; every helper it calls exists
    /// and may be called by its kind (GPL-only ones under a GPL-compatible license); every map it
    /// uses can be created here. Returns its kind. Loading checks the same before binding.
    public static func checkLoadable(
        _ program: Program, of object: Object, helpers: HelperTable = StandardHelpers.table,
        allowsHostMemoryReads: Bool = true
    ) throws(ObjectError) -> ProgramKind {
        let name = program.metadata.name
        guard let kind = program.metadata.kind else {
            let refusal = ProgramSection(name: program.metadata.section).refusal ?? "it has no program kind"
            throw .notRunnable(program: name, section: program.metadata.section, reason: refusal)
        }
        let available = helpers.available(to: kind, allowsHostMemoryReads: allowsHostMemoryReads)
        for (index, operation) in program.operations {
            switch operation {
            case .call(.helper(let id)):
                guard let helper = helpers[id] else {
                    // A poisoned instruction calls a helper that does not exist on purpose: it fails only if it runs.
                    if program.metadata.poisonReason(at: index) != nil { continue }
                    throw .link(program: name, instruction: index,
                                reason: LoadError(index: index, reason: .unknownHelper(id)).problem)
                }
                if helper.isGPLOnly && !gplCompatibleLicenses.contains(object.license) {
                    throw .link(program: name, instruction: index, reason: "bpf_\(helper.name) is GPL-only and the"
                        + " license \"\(object.license)\" is not GPL-compatible")
                }
                if available[id] == nil {
                    throw .link(program: name, instruction: index, reason: unavailability(of: helper, to: kind))
                }
            case .loadImmediate64(let immediateKind, _, let value)
                where immediateKind == .mapByIndex || immediateKind == .mapValueByIndex:
                let position = Int(UInt32(truncatingIfNeeded: value))
                guard position < program.metadata.maps.count else { continue }  // binding names this one
                let mapName = program.metadata.maps[position]
                if let reason = object.maps.first(where: { $0.name == mapName })?.unavailability {
                    throw .link(program: name, instruction: index, reason: "map '\(mapName)': \(reason)")
                }
            default:
                continue
            }
        }
        return kind
    }

    /// Replaces map references (`lddw` src 5 and 6) with the addresses of the maps and their
    /// values (recording each one's provenance for checked runs) and binds the program to the
    /// helpers its kind may call.
    private func bind(_ program: Program) throws(ObjectError) -> LoadedProgram {
        let name = program.metadata.name
        let kind = try Self.checkLoadable(program, of: object, helpers: helpers,
                                          allowsHostMemoryReads: allowsHostMemoryReads)
        let available = helpers.available(to: kind, allowsHostMemoryReads: allowsHostMemoryReads)
        var slots = program.instructions
        var referenced: [Map] = []
        for mapName in program.metadata.maps {
            guard let map = map(named: mapName) else {
                throw .link(program: name, instruction: 0, reason: "map '\(mapName)' does not exist")
            }
            referenced.append(map)
        }
        var constants: [Int: Provenance] = [:]
        for (index, operation) in program.operations {
            guard case .loadImmediate64(let kind, _, let value) = operation,
                  kind == .mapByIndex || kind == .mapValueByIndex else { continue }
            let mapIndex = Int(UInt32(truncatingIfNeeded: value))
            guard mapIndex < referenced.count,
                  let objectIndex = maps.firstIndex(where: { $0 === referenced[mapIndex] })
            else {
                throw .link(program: name, instruction: index,
                            reason: "lddw refers to map \(mapIndex), but the program references \(referenced.count)")
            }
            let map = referenced[mapIndex]
            let address: UInt64
            if kind == .mapByIndex {
                address = UInt64(UInt(bitPattern: map.opaquePointer))
                constants[index] = Provenance(.map, index: objectIndex)
            } else {
                var zeroKey: UInt32 = 0
                let offset = value >> 32
                guard let base = map.lookup(key: &zeroKey), offset < UInt64(map.definition.valueSize) else {
                    throw .link(program: name, instruction: index,
                                reason: "offset \(offset) is outside the \(map.definition.valueSize)-byte value of map '\(map.definition.name)'")
                }
                address = UInt64(UInt(bitPattern: base)) + offset
                constants[index] = Provenance(.mapValue, index: objectIndex, base: UInt(bitPattern: base))
            }
            slots[index].registers &= 0x0f
            slots[index].imm = Int32(truncatingIfNeeded: address)
            slots[index + 1].imm = Int32(truncatingIfNeeded: address >> 32)
        }
        let bound: Program
        do { bound = try Program(instructions: slots, metadata: program.metadata) } catch {
            throw .invalidInstructions(program: name, error)
        }
        do {
            return try LoadedProgram(linked: program, kind: kind, bound: bound, maps: referenced, helpers: available,
                                     constants: constants, object: self)
        } catch {
            throw .link(program: name, instruction: error.index, reason: error.problem)
        }
    }

    /// Why `helper` is not in the set of helpers `kind` may call.
    private static func unavailability(of helper: Helper, to kind: ProgramKind) -> String {
        if helper.readsHostMemory && kind.isTracing {
            return "bpf_\(helper.name) reads host memory, which the host does not allow for this object"
        }
        return "bpf_\(helper.name) is not available to '\(kind)' programs (only tracing and hook kinds may call it)"
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
