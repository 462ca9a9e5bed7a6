/// A BPF object file as libbpf reads it, before linking: its entry programs, its maps, its
/// global-data sections and variables, its license, and its BTF and BTF.ext.
///
/// Building an `Object` validates the ELF container, the BTF, the map declarations and the
/// program symbols; it accepts every map type, every program section and the legacy `maps`
/// section, so that any object can be inspected. Linking a program (`Linker`) resolves its
/// relocations; what this runtime cannot run is refused when it is loaded (`LoadedObject`).
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
    /// The BTF-defined maps of `.maps`, in section order, then the legacy ones of `maps`.
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
        maps = try MapDeclaration.declarations(in: elf, btf: btf)
        let (externs, kernelConfig) = Self.externDeclarations(elf, btf, objectName: name)
        self.externs = externs
        globalData = try Self.globalDataSections(elf, btf, objectName: name) + (kernelConfig.map { [$0] } ?? [])
        // Programs refer to maps by name once linked, so two maps must never share one.
        var names = Set<String>()
        for mapName in maps.map(\.name) + globalData.map(\.mapName) where !names.insert(mapName).inserted {
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
            let meaning = ProgramSection(name: section.name)
            let symbols = elf.symbols
                .filter { $0.sectionIndex == section.index && $0.type == .function && $0.binding != .local }
                .sorted { $0.value < $1.value }
            for symbol in symbols {
                let range = try range(of: symbol, in: section, what: "program")
                entries.append(ProgramEntry(name: symbol.name, section: section.name, sectionIndex: section.index,
                                            sectionMeaning: meaning, offset: range.lowerBound, size: range.count))
            }
        }
        return entries
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
    /// What the section's name says: the kind of program, or why it cannot run here.
    public let sectionMeaning: ProgramSection
    /// Byte offset of the function in its section.
    public let offset: Int
    /// Byte size of the function.
    public let size: Int

    /// The kind of program, when this runtime can run it.
    public var kind: ProgramKind? { sectionMeaning.kind }
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
