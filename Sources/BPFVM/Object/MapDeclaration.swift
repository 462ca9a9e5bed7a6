/// A map an object declares, with its attributes as declared: a BTF-defined map of `.maps` (libbpf's
/// `__uint`, `__ulong`, `__type` and `__array` members), or a legacy `struct bpf_map_def` of the `maps` section.
///
/// A declaration is what parsing yields for any map type and any attribute libbpf knows; whether the map can
/// be created here is asked only when it is created (``runtimeDefinition()``).
public struct MapDeclaration: Hashable, Sendable {
    public let name: String
    /// The `BPF_MAP_TYPE_*` number, named as the kernel names it.
    public let type: KernelMapType
    /// `key_size`, or the size of the `key` type.
    public let keySize: Int
    /// `value_size`, or the size of the `value` type (4 for maps declared with `__array(values, ...)`).
    public let valueSize: Int
    public let maxEntries: Int
    /// `map_flags` (`BPF_F_*`).
    public let flags: UInt32
    /// `map_extra`: a bloom filter's hash count, an arena's start address; 0 when absent.
    public let mapExtra: UInt64
    /// Whether the map comes from the legacy `maps` section, which libbpf 1.x refuses to load.
    public let isLegacy: Bool
    /// The section that declares the map (`.maps`, or `maps` for a legacy one).
    public let sectionIndex: Int
    /// The map symbol's offset in its section.
    public let symbolOffset: Int
    /// For maps declared with `__array(values, ...)`: slot index → the symbol filling it at load, a program for
    /// a program array, a map for a map of maps.
    public let initialValues: [Int: String]
    /// Storage for ``innerMap`` (an array, so that the struct may hold one of its own kind).
    private let innerMaps: [MapDeclaration]

    /// The template of the maps a map of maps (`array_of_maps`, `hash_of_maps`) holds, declared with
    /// `__array(values, struct { ... })`; libbpf names it `OUTER.inner`.
    public var innerMap: MapDeclaration? { innerMaps.first }

    public init(name: String, type: KernelMapType, keySize: Int, valueSize: Int, maxEntries: Int, flags: UInt32,
                mapExtra: UInt64 = 0, isLegacy: Bool = false, sectionIndex: Int = 0, symbolOffset: Int = 0,
                initialValues: [Int: String] = [:], innerMap: MapDeclaration? = nil)
    {
        self.name = name
        self.type = type
        self.keySize = keySize
        self.valueSize = valueSize
        self.maxEntries = maxEntries
        self.flags = flags
        self.mapExtra = mapExtra
        self.isLegacy = isLegacy
        self.sectionIndex = sectionIndex
        self.symbolOffset = symbolOffset
        self.initialValues = initialValues
        self.innerMaps = innerMap.map { [$0] } ?? []
    }

    /// The definition the runtime creates the map from, with libbpf's defaults filled in (4-byte keys and values
    /// for the fd arrays, which hold indices and file descriptors; one perf buffer per CPU, which here is one per
    /// thread slot) and the inner map's template; throws, naming the map, for a legacy definition (which libbpf
    /// 1.x does not load either), for a type this runtime does not implement, and for initial values or an inner
    /// map template on a type that holds neither programs nor maps.
    public func runtimeDefinition() throws(ObjectError) -> MapDefinition {
        let reason: String
        if isLegacy {
            reason = "legacy map definitions (section 'maps') are not supported, as libbpf 1.x does not support them;"
                + " declare the map in '.maps' with BTF"
        } else if let runtimeType = type.runtimeType {
            if innerMap != nil && !runtimeType.holdsMaps {
                throw .invalidMap(name: name, reason: runtimeType == .programArray
                    ? "the 'values' of a prog_array must point to functions"
                    : "only a map of maps may have an inner map template (__array(values, struct { ... }))")
            }
            if !initialValues.isEmpty && !(runtimeType == .programArray || runtimeType.holdsMaps) {
                throw .invalidMap(name: name, reason: "only a prog_array or a map of maps may have initial 'values'")
            }
            let holdsIndices = runtimeType == .programArray || runtimeType == .perfEventArray
                || runtimeType == .cgroupArray || runtimeType.holdsMaps
            let isIndexed = holdsIndices && runtimeType != .hashOfMaps
            return MapDefinition(
                name: name, type: runtimeType, keySize: keySize == 0 && isIndexed ? 4 : keySize,
                valueSize: valueSize == 0 && holdsIndices ? 4 : valueSize,
                maxEntries: maxEntries == 0 && runtimeType == .perfEventArray ? Map.threadSlotCount : maxEntries,
                flags: flags, innerMap: try innerMap?.runtimeDefinition())
        } else {
            reason = MapError(mapName: name, reason: .unsupportedType(type.rawValue)).problem
        }
        throw .unsupportedMap(name: name, reason: reason)
    }

    /// This declaration, where its symbol is and with the initial values relocations give it.
    func placed(sectionIndex: Int, symbolOffset: Int, initialValues: [Int: String]) -> MapDeclaration {
        MapDeclaration(name: name, type: type, keySize: keySize, valueSize: valueSize, maxEntries: maxEntries,
                       flags: flags, mapExtra: mapExtra, isLegacy: isLegacy, sectionIndex: sectionIndex,
                       symbolOffset: symbolOffset, initialValues: initialValues, innerMap: innerMap)
    }

    /// Why the runtime cannot create the map, or nil when it can (its definition may still be refused as invalid
    /// when it is created).
    public var unavailability: String? {
        do {
            _ = try runtimeDefinition()
            return nil
        } catch {
            switch error {
            case .unsupportedMap(_, let reason), .invalidMap(_, let reason): return reason
            default: return "\(error)"
            }
        }
    }
}

extension MapDeclaration {
    /// The maps of `.maps` (BTF-defined) and of the legacy `maps` section, in that order.
    static func declarations(in elf: ELFFile, btf: BTF?) throws(ObjectError) -> [MapDeclaration] {
        let declarations = try btfDefined(in: elf, btf: btf) + legacy(in: elf)
        // Each map's capacity is checked when it is created; what creating all of them writes is checked here.
        var creationBytes = 0
        for declaration in declarations {
            creationBytes += (try? declaration.runtimeDefinition())?.creationBytes ?? 0
            guard creationBytes <= MapDefinition.maximumObjectCreationBytes else {
                throw .invalidMap(name: declaration.name, reason: "the object's maps up to this one"
                    + " would write \(creationBytes) bytes when created (hash buckets, program array slots), more"
                    + " than the \(MapDefinition.maximumObjectCreationBytes) one object may")
            }
        }
        return declarations
    }

    /// libbpf's BTF-defined maps: one VAR of DATASEC `.maps` per map, a struct whose members are the attributes.
    private static func btfDefined(in elf: ELFFile, btf: BTF?) throws(ObjectError) -> [MapDeclaration] {
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
            let place = try Object.range(of: symbol, in: section, what: "map")
            var valuesOffset: UInt64?
            let declaration = try parseDefinition(defType, name: name, btf: btf, allowsInnerMap: true,
                                                  valuesOffset: &valuesOffset)
            var initialValues: [Int: String] = [:]
            if let valuesOffset {
                // __array(values, ...) initialisers: relocations of .rel.maps inside the array, one slot per 8 bytes.
                let start = UInt64(place.lowerBound) + valuesOffset
                let end = UInt64(place.upperBound)
                for relocation in relocations where relocation.offset >= start && relocation.offset < end {
                    guard relocation.symbolIndex < elf.symbols.count else { continue }
                    initialValues[Int(relocation.offset - start) / 8] = elf.symbols[relocation.symbolIndex].name
                }
            }
            declarations.append(declaration.placed(sectionIndex: section.index, symbolOffset: place.lowerBound,
                                                   initialValues: initialValues))
        }
        return declarations
    }

    /// One map definition struct (libbpf's `parse_btf_map_def`). `valuesOffset` receives the byte offset of an
    /// `__array(values, ...)` member; an inner map's definition (`allowsInnerMap` false) may not have one.
    private static func parseDefinition(_ definitionType: UInt32, name: String, btf: BTF, allowsInnerMap: Bool,
                                        valuesOffset: inout UInt64?) throws(ObjectError) -> MapDeclaration
    {
        let definition = btf.type(btf.skippingModifiersAndTypedefs(definitionType))
        guard let definition, case .structure(_, let members) = definition.kind else {
            throw .invalidMap(name: name, reason: "its definition is not a struct")
        }
        var numbers: [String: UInt64] = [:]
        var keySize: Int?
        var valueSize: Int?
        var innerMap: MapDeclaration?
        for member in members {
            switch member.name {
            case "type", "max_entries", "map_flags", "key_size", "value_size", "numa_node", "map_extra", "pinning":
                guard let number = numericAttribute(member.type, btf: btf) else {
                    throw .invalidMap(name: name, reason: "member '\(member.name)' is neither __uint(...) nor __ulong(...)")
                }
                guard member.name == "map_extra" || number <= UInt64(UInt32.max) else {
                    throw .invalidMap(name: name, reason: "member '\(member.name)' is \(number), more than 32 bits hold")
                }
                numbers[member.name] = number
            case "key", "value":
                guard case .pointer(let target)? = btf.type(btf.skippingModifiersAndTypedefs(member.type))?.kind,
                      let size = btf.resolvedSize(of: target)
                else { throw .invalidMap(name: name, reason: "member '\(member.name)' is not a __type(...)") }
                if member.name == "key" { keySize = size } else { valueSize = size }
            case "values":
                guard allowsInnerMap else {
                    throw .invalidMap(name: name, reason: "an inner map may not declare values of its own")
                }
                // __array(values, T): a zero-length array of pointers to T, a map definition for a map of maps.
                guard case .array(let element, _, _)? = btf.type(btf.skippingModifiersAndTypedefs(member.type))?.kind,
                      case .pointer(let target)? = btf.type(btf.skippingModifiersAndTypedefs(element))?.kind
                else { throw .invalidMap(name: name, reason: "member 'values' is not an __array(values, ...)") }
                valuesOffset = UInt64(member.bitOffset / 8)
                if case .structure? = btf.type(btf.skippingModifiersAndTypedefs(target))?.kind {
                    var nested: UInt64?
                    innerMap = try parseDefinition(target, name: name + ".inner", btf: btf, allowsInnerMap: false,
                                                   valuesOffset: &nested)
                }
            default:
                continue  // libbpf ignores members it does not know
            }
        }
        guard let rawType = numbers["type"] else { throw .invalidMap(name: name, reason: "no map type") }
        let type = KernelMapType(rawValue: UInt32(rawType))
        if let explicit = numbers["key_size"], let typed = keySize, explicit != UInt64(typed) {
            throw .invalidMap(name: name, reason: "key_size \(explicit) disagrees with the key type's size \(typed)")
        }
        if let explicit = numbers["value_size"], let typed = valueSize, explicit != UInt64(typed) {
            throw .invalidMap(name: name, reason: "value_size \(explicit) disagrees with the value type's size \(typed)")
        }
        var resolvedKeySize = keySize ?? numbers["key_size"].map { Int($0) } ?? 0
        var resolvedValueSize = valueSize ?? numbers["value_size"].map { Int($0) } ?? 0
        // libbpf: the slots of __array(values, ...) hold 4-byte ids (program or map file descriptors).
        if valuesOffset != nil && resolvedValueSize == 0 { resolvedValueSize = 4 }
        if type == .programArray && resolvedKeySize == 0 { resolvedKeySize = 4 }
        if type == .programArray && resolvedValueSize == 0 { resolvedValueSize = 4 }
        return MapDeclaration(
            name: name, type: type, keySize: resolvedKeySize, valueSize: resolvedValueSize,
            maxEntries: Int(numbers["max_entries"] ?? 0), flags: UInt32(numbers["map_flags"] ?? 0),
            mapExtra: numbers["map_extra"] ?? 0, innerMap: innerMap)
    }

    /// The number a numeric attribute member declares: `__uint(name, N)` is a pointer to an array of N ints,
    /// `__ulong(name, N)` an anonymous enum whose one enumerator is N.
    private static func numericAttribute(_ memberType: UInt32, btf: BTF) -> UInt64? {
        switch btf.type(btf.skippingModifiersAndTypedefs(memberType))?.kind {
        case .pointer(let target)?:
            guard case .array(_, _, let count)? = btf.type(btf.skippingModifiersAndTypedefs(target))?.kind else {
                return nil
            }
            return UInt64(count)
        case .enumeration(_, _, let values)?, .enumeration64(_, _, let values)?:
            return values.count == 1 ? values[0].unsignedValue : nil
        default:
            return nil
        }
    }

    /// The fields of a legacy definition read: `type`, `key_size`, `value_size`, `max_entries`, `map_flags`.
    private static let legacyFieldCount = 5

    /// The legacy `maps` section: one `struct bpf_map_def` per symbol, all of the section's size divided by their
    /// count, as libbpf 0.x read them (iproute2's longer definitions add fields after these five).
    private static func legacy(in elf: ELFFile) throws(ObjectError) -> [MapDeclaration] {
        guard let section = elf.section(named: "maps") else { return [] }
        let symbols = elf.symbols
            .filter { $0.sectionIndex == section.index && $0.type != .section && $0.type != .file && !$0.name.isEmpty }
            .sorted { $0.value < $1.value }
        guard !symbols.isEmpty else { return [] }
        guard section.size % symbols.count == 0, section.size > 0 else {
            throw .invalidMap(name: "maps", reason: "section 'maps' is \(section.size) bytes, which \(symbols.count)"
                + " map definitions cannot share equally")
        }
        let definitionSize = section.size / symbols.count
        let data = section.isNoBits ? [] : Array(elf.data(of: section))
        var declarations: [MapDeclaration] = []
        for symbol in symbols {
            let place = try Object.range(name: symbol.name, offset: symbol.value, size: UInt64(definitionSize),
                                         in: section, byteCount: data.count, what: "map definition")
            var fields = [UInt32](repeating: 0, count: legacyFieldCount)
            for index in fields.indices where (index + 1) * 4 <= place.count {
                let at = place.lowerBound + index * 4
                fields[index] = data[at..<at + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            }
            declarations.append(MapDeclaration(
                name: symbol.name, type: KernelMapType(rawValue: fields[0]), keySize: Int(fields[1]),
                valueSize: Int(fields[2]), maxEntries: Int(fields[3]), flags: fields[4], isLegacy: true,
                sectionIndex: section.index, symbolOffset: place.lowerBound))
        }
        return declarations
    }
}
