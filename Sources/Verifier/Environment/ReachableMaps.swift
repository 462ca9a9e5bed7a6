import BPFVM

/// The maps a program can hold pointers to, by the index a `PointerKind.map` or `.mapValue`
/// carries: first the maps its `lddw` instructions name (the environment's `maps`, same
/// indices), then the inner-map template of each map of maps among them. A lookup in a map of
/// maps gives one of its inner maps, which the host may have put there but which always fits
/// the template (same type, key and value sizes and flags), so the template stands for it.
struct ReachableMaps {
    let definitions: [MapDefinition]
    /// For each map of maps, the index of its inner-map template in `definitions`.
    private let templates: [Int: Int]

    init(_ maps: [MapDefinition]) {
        var definitions = maps
        var templates: [Int: Int] = [:]
        for (index, map) in maps.enumerated() where map.type.holdsMaps {
            guard let template = map.innerMap else { continue }
            templates[index] = definitions.count
            definitions.append(template)
        }
        self.definitions = definitions
        self.templates = templates
    }

    subscript(index: Int) -> MapDefinition { definitions[index] }

    /// The index standing for the maps the map of maps `index` holds, or nil when `index` does
    /// not hold maps.
    func innerMap(of index: Int) -> Int? { templates[index] }
}
