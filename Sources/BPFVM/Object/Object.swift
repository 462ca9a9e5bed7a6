/// A BPF object file as libbpf reads it, before linking: its entry programs, its BTF-defined
/// maps, its global-data sections and variables, its license, and its BTF and BTF.ext.
///
/// Building an `Object` validates the ELF container, the BTF, the map definitions and the
/// program sections; linking a program (`Linker`) resolves its relocations.
public struct Object: Sendable {
    /// The object's name (the file name without `.o`), used to name global-data maps as libbpf does.
    public let name: String
    public let elf: ELFFile
    public let btf: BTF?
    public let btfExt: BTFExt?
    /// The `license` section's string ("" when absent).
    public let license: String
    /// The `version` section's value, when present.
    public let kernelVersion: UInt32?
    /// The entry programs, in section and then symbol order.
    public let programs: [ProgramEntry]
    /// The BTF-defined maps of `.maps`, in section order.
    public let maps: [MapDeclaration]
    /// The global-data sections, each a one-entry array map (the `.kconfig` map of `__kconfig`
    /// externs last, when there are any).
    public let globalData: [GlobalDataSection]
    /// The `__kconfig` and `__ksym` externs, in libbpf's order.
    public let externs: [ExternDeclaration]

    public init(bytes: [UInt8], name: String) throws(ObjectError) {
        let elf: ELFFile
        do { elf = try ELFFile(bytes: bytes) } catch { throw .elf(error) }
        self.name = name
        self.elf = elf
        if elf.section(named: "maps") != nil { throw .legacyMaps }
        var btf: BTF?
        var btfExt: BTFExt?
        do {
            if let section = elf.section(named: ".BTF") {
                let parsed = try BTF(bytes: Array(elf.data(of: section)))
                btf = parsed
                if let ext = elf.section(named: ".BTF.ext") {
                    btfExt = try BTFExt(bytes: Array(elf.data(of: ext)), btf: parsed)
                }
            }
        } catch {
            throw .btf(error)
        }
        self.btf = btf
        self.btfExt = btfExt
        license = elf.section(named: "license").map { Self.cString(elf.data(of: $0)) } ?? ""
        kernelVersion = elf.section(named: "version").flatMap { section in
            let data = elf.data(of: section)
            guard data.count == 4 else { return nil }
            return data.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        programs = try Self.entryPrograms(elf)
        maps = try Self.mapDeclarations(elf, btf)
        let (externs, kernelConfig) = Self.externDeclarations(elf, btf, objectName: name)
        self.externs = externs
        globalData = try Self.globalDataSections(elf, btf, objectName: name) + (kernelConfig.map { [$0] } ?? [])
        // Programs refer to maps by name once linked, so two maps must never share one.
        var names = Set<String>()
        for mapName in maps.map(\.definition.name) + globalData.map(\.mapName) where !names.insert(mapName).inserted {
            throw .invalidMap(name: mapName, reason: "another map of the object has the same name (global-data maps"
                + " are named after their section, cut to 15 characters as the kernel does)")
        }
    }

    /// The program named `name`.
    public func program(named name: String) throws(ObjectError) -> ProgramEntry {
        guard let entry = programs.first(where: { $0.name == name }) else {
            throw .noSuchProgram(name, available: programs.map(\.name))
        }
        return entry
    }

    /// The bytes `symbol` covers in `section`, which must hold them whole (libbpf refuses a program that
    /// "crosses section boundary"; the kernel a variable with an "invalid offset+size").
    static func range(of symbol: ELFSymbol, in section: ELFSection, byteCount: Int? = nil, what: String)
        throws(ObjectError) -> Range<Int>
    {
        try range(name: symbol.name, offset: symbol.value, size: symbol.size, in: section, byteCount: byteCount,
                  what: what)
    }

    /// `offset..<offset + size`, which must lie inside `section`, or inside its first `byteCount` bytes when given
    /// (`what` says what the symbol `name` is).
    static func range(name: String, offset: UInt64, size: UInt64, in section: ELFSection, byteCount: Int? = nil,
                      what: String) throws(ObjectError) -> Range<Int>
    {
        let count = byteCount ?? section.size
        let sectionSize = UInt64(count)
        guard offset <= sectionSize, size <= sectionSize - offset else {
            throw .invalidSymbol(name: name, reason: "\(what) at offset \(offset), \(size) bytes, crosses the end of"
                + " section '\(section.name)' (\(count) bytes)")
        }
        return Int(offset)..<Int(offset + size)
    }

    /// The bytes up to the first NUL.
    static func cString(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
    }

    private static func entryPrograms(_ elf: ELFFile) throws(ObjectError) -> [ProgramEntry] {
        var entries: [ProgramEntry] = []
        for section in elf.sections where section.isExecutable && section.name != ".text" {
            guard let kind = ProgramKind(section: section.name) else { throw .unknownProgramSection(section.name) }
            let symbols = elf.symbols
                .filter { $0.sectionIndex == section.index && $0.type == .function && $0.binding != .local }
                .sorted { $0.value < $1.value }
            for symbol in symbols {
                let range = try range(of: symbol, in: section, what: "program")
                entries.append(ProgramEntry(name: symbol.name, section: section.name, sectionIndex: section.index,
                                            kind: kind, offset: range.lowerBound, size: range.count))
            }
        }
        return entries
    }

    private static func mapDeclarations(_ elf: ELFFile, _ btf: BTF?) throws(ObjectError) -> [MapDeclaration] {
        guard let section = elf.section(named: ".maps") else { return [] }
        guard let btf else { throw .mapsWithoutBTF }
        guard let datasec = btf.firstType(named: ".maps"), case .dataSection(_, let variables) = datasec.kind else {
            throw .invalidMap(name: ".maps", reason: "BTF has no DATASEC '.maps'")
        }
        let relocations = elf.relocations(for: section)
        var declarations: [MapDeclaration] = []
        for variable in variables {
            guard let varType = btf.type(variable.type), case .variable(let defType, _) = varType.kind else {
                throw .invalidMap(name: ".maps", reason: "DATASEC entry \(variable.type) is not a VAR")
            }
            let name = varType.name
            guard let symbol = elf.symbols.first(where: { $0.name == name && $0.sectionIndex == section.index }) else {
                throw .invalidMap(name: name, reason: "no symbol for the map in '.maps'")
            }
            let place = try range(of: symbol, in: section, what: "map")
            var initialValues: [Int: String] = [:]
            let definition = try mapDefinition(btf, defType, name: name) { valuesMember in
                // __array(values, ...): initial values filled through .rel.maps.
                let start = UInt64(place.lowerBound) + UInt64(valuesMember.bitOffset / 8)
                let end = UInt64(place.upperBound)
                for relocation in relocations where relocation.offset >= start && relocation.offset < end {
                    let slot = Int(relocation.offset - start) / 8
                    guard relocation.symbolIndex < elf.symbols.count else { continue }
                    initialValues[slot] = elf.symbols[relocation.symbolIndex].name
                }
            }
            declarations.append(MapDeclaration(definition: definition, symbolOffset: place.lowerBound,
                                               initialValues: initialValues))
        }
        // Each map's capacity is checked when it is created; what creating all of them writes is checked here.
        var creationBytes = 0
        for declaration in declarations {
            creationBytes += declaration.definition.creationBytes
            guard creationBytes <= MapDefinition.maximumObjectCreationBytes else {
                throw .invalidMap(name: declaration.definition.name, reason: "the object's maps up to this one"
                    + " would write \(creationBytes) bytes when created (hash buckets, program array slots), more"
                    + " than the \(MapDefinition.maximumObjectCreationBytes) one object may")
            }
        }
        return declarations
    }

    /// The map a BTF map definition (the struct `id`) declares, as libbpf's `parse_btf_map_def`
    /// reads it: `__uint` fields, `__type` key and value, and `__array(values, ...)`, whose
    /// element type is an inner map's definition for a map of maps (`values` is then called,
    /// so the caller can collect initial values). An inner definition (`isInner`) may not have one.
    static func mapDefinition(_ btf: BTF, _ id: UInt32, name: String, isInner: Bool = false,
                              values: (BTFMember) throws(ObjectError) -> Void = { _ in }) throws(ObjectError)
        -> MapDefinition
    {
        let definition = btf.type(btf.skippingModifiersAndTypedefs(id))
        guard let definition, case .structure(_, let members) = definition.kind else {
            throw .invalidMap(name: name, reason: "its definition is not a struct")
        }
        var fields: [String: Int] = [:]
        var keySize: Int?
        var valueSize: Int?
        var innerMap: MapDefinition?
        var hasValues = false
        for (position, member) in members.enumerated() {
            let memberType = btf.skippingModifiersAndTypedefs(member.type)
            switch member.name {
            case "type", "max_entries", "map_flags", "key_size", "value_size", "numa_node", "map_extra", "pinning":
                // __uint(name, N): a pointer to an array of N ints.
                guard case .pointer(let target)? = btf.type(memberType)?.kind,
                      case .array(_, _, let count)? = btf.type(btf.skippingModifiersAndTypedefs(target))?.kind
                else { throw .invalidMap(name: name, reason: "member '\(member.name)' is not a __uint(...)") }
                fields[member.name] = count
            case "key", "value":
                guard case .pointer(let target)? = btf.type(memberType)?.kind,
                      let size = btf.resolvedSize(of: target)
                else { throw .invalidMap(name: name, reason: "member '\(member.name)' is not a __type(...)") }
                if member.name == "key" { keySize = size } else { valueSize = size }
            case "values":
                guard !isInner else { throw .invalidMap(name: name, reason: "multi-level inner maps are not supported") }
                guard position == members.count - 1 else {
                    throw .invalidMap(name: name, reason: "'values' must be the last member of the definition")
                }
                // An array of pointers: to a map definition (map of maps) or a function (program array).
                guard case .array(let element, _, _)? = btf.type(memberType)?.kind,
                      case .pointer(let pointee)? = btf.type(btf.skippingModifiersAndTypedefs(element))?.kind
                else { throw .invalidMap(name: name, reason: "'values' is not an __array(values, ...) of pointers") }
                if case .structure? = btf.type(btf.skippingModifiersAndTypedefs(pointee))?.kind {
                    innerMap = try mapDefinition(btf, pointee, name: name + ".inner", isInner: true)
                }
                hasValues = true
                try values(member)
            default:
                continue  // libbpf ignores members it does not know
            }
        }
        guard let rawType = fields["type"] else { throw .invalidMap(name: name, reason: "no map type") }
        guard let type = MapType(rawValue: UInt32(rawType)) else {
            throw .invalidMap(name: name, reason: "map type \(rawType) is not supported")
        }
        if hasValues && !(type == .programArray || type.holdsMaps) {
            throw .invalidMap(name: name, reason: "only a prog_array or a map of maps may have initial 'values'")
        }
        if hasValues && (innerMap == nil) == type.holdsMaps {
            throw .invalidMap(name: name, reason: type.holdsMaps
                ? "the 'values' of a map of maps must point to a map definition (struct)"
                : "the 'values' of a prog_array must point to functions")
        }
        if let explicit = fields["key_size"], let typed = keySize, explicit != typed {
            throw .invalidMap(name: name, reason: "key_size \(explicit) disagrees with the key type's size \(typed)")
        }
        if let explicit = fields["value_size"], let typed = valueSize, explicit != typed {
            throw .invalidMap(name: name, reason: "value_size \(explicit) disagrees with the value type's size \(typed)")
        }
        var resolvedKeySize = keySize ?? fields["key_size"] ?? 0
        var resolvedValueSize = valueSize ?? fields["value_size"] ?? 0
        var maxEntries = fields["max_entries"] ?? 0
        // libbpf's defaults: 4-byte keys and values (indices and file descriptors) for the fd
        // arrays, and one perf buffer per CPU, which here is one per thread slot.
        if [.programArray, .perfEventArray, .cgroupArray, .arrayOfMaps].contains(type) && resolvedKeySize == 0 {
            resolvedKeySize = 4
        }
        if type == .programArray || type == .perfEventArray || type == .cgroupArray || type.holdsMaps {
            resolvedValueSize = resolvedValueSize == 0 ? 4 : resolvedValueSize
        }
        if type == .perfEventArray && maxEntries == 0 { maxEntries = Map.threadSlotCount }
        return MapDefinition(name: name, type: type, keySize: resolvedKeySize, valueSize: resolvedValueSize,
                             maxEntries: maxEntries, flags: UInt32(truncatingIfNeeded: fields["map_flags"] ?? 0),
                             innerMap: innerMap)
    }

    /// Whether libbpf treats a section of this name as global data.
    static func isGlobalData(_ name: String) -> Bool {
        name == ".data" || name == ".bss" || name == ".rodata" || name.hasPrefix(".data.") || name.hasPrefix(".rodata.")
    }

    private static func globalDataSections(_ elf: ELFFile, _ btf: BTF?, objectName: String) throws(ObjectError)
        -> [GlobalDataSection]
    {
        var sections: [GlobalDataSection] = []
        for section in elf.sections where section.isAllocated && !section.isExecutable && isGlobalData(section.name) {
            let mapName = mapName(forSection: section.name, objectName: objectName)
            // The section becomes one map value; a NOBITS size is only a number in the header, so check it
            // before allocating the zeros.
            guard section.size <= MapDefinition.maximumValueSize else {
                throw .invalidMap(name: mapName, reason: "section '\(section.name)' is \(section.size) bytes, more than"
                    + " the \(MapDefinition.maximumValueSize) bytes a map value may hold")
            }
            // Variables are checked against these bytes, not the header's size: a section whose type holds no data
            // (SHT_NULL) has none, whatever its size says.
            let bytes = section.isNoBits ? [UInt8](repeating: 0, count: section.size) : Array(elf.data(of: section))
            var variables: [GlobalVariable] = []
            if let btf, let datasec = btf.firstType(named: section.name),
               case .dataSection(_, let entries) = datasec.kind
            {
                for entry in entries {
                    guard let variable = btf.type(entry.type), case .variable(let type, let linkage) = variable.kind
                    else { continue }
                    var offset = UInt64(entry.offset)
                    // libbpf's fix-up: a global variable's offset comes from its symbol.
                    if linkage != .static, let symbol = elf.symbols.first(where: {
                        $0.name == variable.name && $0.type == .object && $0.binding != .local
                    }) {
                        offset = symbol.value
                    }
                    let place = try range(name: variable.name, offset: offset, size: UInt64(entry.size), in: section,
                                          byteCount: bytes.count, what: "variable")
                    variables.append(GlobalVariable(name: variable.name, offset: place.lowerBound, size: place.count,
                                                    typeID: type))
                }
            } else {
                for symbol in elf.symbols where symbol.sectionIndex == section.index && symbol.type == .object {
                    let place = try range(of: symbol, in: section, byteCount: bytes.count, what: "variable")
                    variables.append(GlobalVariable(name: symbol.name, offset: place.lowerBound, size: place.count,
                                                    typeID: 0))
                }
            }
            variables.sort { $0.offset < $1.offset }
            sections.append(GlobalDataSection(
                sectionName: section.name, sectionIndex: section.index, mapName: mapName,
                initialBytes: bytes, isReadOnly: section.name.hasPrefix(".rodata"), variables: variables))
        }
        return sections
    }

    /// libbpf's name for a global-data map: a prefix of the object name plus the section name
    /// for the standard sections, the section name itself for custom ones, at most 15 characters.
    static func mapName(forSection section: String, objectName: String) -> String {
        if section == ".data" || section == ".bss" || section == ".rodata" || section == ".kconfig" {
            let prefixLength = min(8, 15 - max(7, section.count))
            let prefix = String(objectName.prefix(prefixLength))
            return String((prefix + section).prefix(15))
        }
        return String(section.prefix(15))
    }
}

/// An entry program of an object: a global function in an executable section other than `.text`.
public struct ProgramEntry: Hashable, Sendable {
    public let name: String
    public let section: String
    public let sectionIndex: Int
    public let kind: ProgramKind
    /// Byte offset of the function in its section.
    public let offset: Int
    /// Byte size of the function.
    public let size: Int
}

/// A BTF-defined map of the `.maps` section.
public struct MapDeclaration: Hashable, Sendable {
    public let definition: MapDefinition
    /// The map symbol's offset in `.maps`.
    public let symbolOffset: Int
    /// For program arrays and maps of maps declared with `__array(values, ...)`: slot index →
    /// the program or map named there.
    public let initialValues: [Int: String]
}

/// A global-data section (`.data`, `.rodata`, `.bss`, `.data.*`, `.rodata.*`): one array map of one
/// entry whose value is the section, with the variables that live in it.
public struct GlobalDataSection: Hashable, Sendable {
    public let sectionName: String
    /// The ELF section's index; ``noSection`` for the `.kconfig` map, which no section holds.
    public let sectionIndex: Int
    /// The ``sectionIndex`` of a map that is in no ELF section (`.kconfig`).
    public static let noSection = -1
    /// The map's name, as libbpf names it (e.g. `globals.data`, `.data.stats`).
    public let mapName: String
    /// The section's initial contents (zeros for `.bss`).
    public let initialBytes: [UInt8]
    /// `.rodata*`: programs may not write it, and the host may set it only before loading.
    public let isReadOnly: Bool
    public let variables: [GlobalVariable]
}

/// A global variable: its name, where it lives in its section, its size and its BTF type (0 if unknown).
public struct GlobalVariable: Hashable, Sendable {
    public let name: String
    public let offset: Int
    public let size: Int
    public let typeID: UInt32
}
