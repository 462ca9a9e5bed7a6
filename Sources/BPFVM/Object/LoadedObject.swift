/// An object opened for running, as libbpf's `bpf_object`: its maps exist (global-data maps
/// hold the sections' initial bytes), the host may read and set global variables (`.rodata`
/// only until `load()`), and after `load()` every program is linked, bound to its maps and
/// helpers, and ready to run.
public final class LoadedObject: @unchecked Sendable {
    public let object: Object
    /// The maps in declaration order: BTF-defined maps first, then global-data maps, then the maps
    /// the host added (``addMap(_:)``).
    public private(set) var maps: [Map]
    /// The helpers programs may call.
    public let helpers: HelperTable
    /// The context helpers see during runs of this object's programs (printk output goes to its trace).
    public let context: ExecutionContext
    /// Whether tracing programs may read arbitrary host memory (`probe_read*`); when false, a
    /// program that calls one fails to load.
    public let allowsHostMemoryReads: Bool
    /// The programs, after `load()`.
    public private(set) var programs: [LoadedProgram] = []
    /// What checked runs know of `maps`, in the same order.
    private(set) var mapLayouts: [MapLayout]

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
            let initialBytes = data.sectionIndex == GlobalDataSection.noSection
                ? try object.kernelConfigValues(kernelConfig) : data.initialBytes
            do {
                let map = try Map(definition)
                if !initialBytes.isEmpty { try map.update([0, 0, 0, 0], initialBytes) }
                maps.append(map)
            } catch {
                throw .invalidMap(name: data.mapName, reason: "\(error)")
            }
        }
        guard maps.count <= maximumTrackedMaps else {
            throw .invalidMap(name: maps[maximumTrackedMaps].definition.name,
                              reason: "an object may have at most \(maximumTrackedMaps) maps, global data included")
        }
        self.maps = maps
        self.mapLayouts = maps.map(MapLayout.init)
        // Maps of maps declared with initial values hold the object's maps named there.
        for declaration in object.maps where declaration.definition.type.holdsMaps {
            let outer = maps.first { $0.definition.name == declaration.definition.name }!
            for (slot, name) in declaration.initialValues.sorted(by: { $0.key < $1.key }) {
                guard let inner = maps.first(where: { $0.definition.name == name }) else {
                    throw .invalidMap(name: declaration.definition.name, reason: "initial value '\(name)' is not a map")
                }
                do { try outer.setInnerMap(inner, at: UInt32(slot)) } catch {
                    throw .invalidMap(name: declaration.definition.name, reason: "\(error)")
                }
            }
        }
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
        do { map = try Map(definition) } catch { throw .invalidMap(name: definition.name, reason: "\(error)") }
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

    /// Links every program (CO-RE against `targetBTF`, or the object's own BTF), resolves its map
    /// references, binds it to the helpers, fills program arrays declared with initial values, and
    /// freezes `.rodata`.
    public func load(targetBTF: BTF? = nil) throws(ObjectError) {
        guard !isLoaded else { return }
        var loaded: [LoadedProgram] = []
        let target = targetBTF.map(CORETarget.init)
        for entry in object.programs {
            let linked = try Linker.link(object, program: entry.name, target: target)
            loaded.append(try bind(linked))
        }
        for declaration in object.maps where declaration.definition.type == .programArray {
            guard let map = map(named: declaration.definition.name) else { continue }
            for (slot, name) in declaration.initialValues {
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

    /// Replaces map references (`lddw` src 5 and 6) with the addresses of the maps and their
    /// values (recording each one's provenance for checked runs) and binds the program to the
    /// helpers its kind may call.
    private func bind(_ program: Program) throws(ObjectError) -> LoadedProgram {
        let name = program.metadata.name
        let kind = program.metadata.kind
        let available = helpers.available(to: kind, allowsHostMemoryReads: allowsHostMemoryReads)
        for (index, operation) in program.operations {
            guard case .call(.helper(let id)) = operation, let helper = helpers[id] else { continue }
            if helper.isGPLOnly && !Self.gplCompatibleLicenses.contains(object.license) {
                throw .link(program: name, instruction: index,
                            reason: "bpf_\(helper.name) is GPL-only and the license \"\(object.license)\" is not GPL-compatible")
            }
            if available[id] == nil {
                throw .link(program: name, instruction: index, reason: Self.unavailability(of: helper, to: kind))
            }
        }
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
            return try LoadedProgram(linked: program, bound: bound, maps: referenced, helpers: available,
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
