/// One type of a BTF: its id (its index in `BTF.types`), its name (empty when anonymous), its
/// decoded kind and the raw 12-byte record header it was decoded from. The name is read from the
/// string section when asked for.
public struct BTFType: Hashable, Sendable {
    public let id: UInt32
    let storedName: BTFName
    public let kind: BTFKind
    /// The record's common header exactly as stored (all zero for void).
    public let header: BTFTypeHeader

    public var name: String { storedName.text }

    public init(id: UInt32, name: String, kind: BTFKind, header: BTFTypeHeader) {
        self.init(id: id, storedName: .text(name), kind: kind, header: header)
    }

    init(id: UInt32, storedName: BTFName, kind: BTFKind, header: BTFTypeHeader) {
        self.id = id
        self.storedName = storedName
        self.kind = kind
        self.header = header
    }

    /// The void type, id 0.
    public static let void = BTFType(id: 0, name: "", kind: .void,
                                     header: BTFTypeHeader(nameOffset: 0, info: 0, sizeOrType: 0))
}

/// The common header of a BTF type record as stored: `name_off`, `info` (vlen, kind, kind_flag)
/// and the `size` / `type` word.
public struct BTFTypeHeader: Hashable, Sendable {
    public let nameOffset: UInt32
    public let info: UInt32
    /// `size` for INT, ENUM, STRUCT, UNION, ENUM64, FLOAT, DATASEC; `type` for the other kinds.
    public let sizeOrType: UInt32

    public init(nameOffset: UInt32, info: UInt32, sizeOrType: UInt32) {
        self.nameOffset = nameOffset
        self.info = info
        self.sizeOrType = sizeOrType
    }

    /// The kind number, bits 24-28 of `info`.
    public var kindNumber: UInt8 { UInt8(truncatingIfNeeded: (info >> 24) & 0x1f) }
    /// Bit 31 of `info`.
    public var kindFlag: Bool { info >> 31 != 0 }
    /// Bits 0-15 of `info`: the number of members, enumerators, parameters or entries, or a FUNC's linkage.
    public var vlen: Int { Int(info & 0xffff) }
}
