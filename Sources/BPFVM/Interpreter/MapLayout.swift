/// What checked mode knows of one map of a loaded object: the pointer programs hold for it
/// and the sizes its keys and values have, so that a map argument names a real map and a
/// value pointer reaches exactly one value.
struct MapLayout {
    /// The map's opaque pointer, as `lddw` of the map loads it.
    let pointer: UInt64
    let name: String
    let keySize: Int
    let valueSize: Int
    /// Whether programs may write its values (false for `BPF_F_RDONLY_PROG`, `.rodata`).
    let isWritable: Bool
    /// Whether a lookup returns another map (array or hash of maps), not a value.
    let holdsMaps: Bool

    init(_ map: Map) {
        pointer = UInt64(UInt(bitPattern: map.opaquePointer))
        name = map.definition.name
        keySize = map.definition.keySize
        valueSize = map.definition.valueSize
        isWritable = !map.isReadOnlyForPrograms
        holdsMaps = map.definition.type.holdsMaps
    }
}
