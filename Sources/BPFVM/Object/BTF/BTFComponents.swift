/// A struct or union member: its name (empty when anonymous), type, bit offset from the start of
/// the aggregate, and bitfield width as encoded by a `kind_flag` struct (0 when not a bitfield).
public struct BTFMember: Hashable, Sendable {
    public let name: String
    /// The raw name offset (0 for an anonymous member).
    public let nameOffset: UInt32
    public let type: UInt32
    public let bitOffset: Int
    /// The bitfield width from the member's offset word when the struct's `kind_flag` is set; 0
    /// otherwise (a `kind_flag` 0 bitfield is described by its INT type's `bits` instead).
    public let bitfieldSize: Int

    public init(name: String, nameOffset: UInt32, type: UInt32, bitOffset: Int, bitfieldSize: Int) {
        self.name = name
        self.nameOffset = nameOffset
        self.type = type
        self.bitOffset = bitOffset
        self.bitfieldSize = bitfieldSize
    }
}

/// One enumerator of an ENUM or ENUM64.
public struct BTFEnumValue: Hashable, Sendable {
    public let name: String
    public let nameOffset: UInt32
    /// The value as C sees it: sign- or zero-extended from 32 bits for an ENUM according to its
    /// signedness; the 64-bit pattern for an ENUM64 (read `unsignedValue` for an unsigned one).
    public let value: Int64

    /// The value read as unsigned 64 bits.
    public var unsignedValue: UInt64 { UInt64(bitPattern: value) }

    public init(name: String, nameOffset: UInt32, value: Int64) {
        self.name = name
        self.nameOffset = nameOffset
        self.value = value
    }
}

/// A FUNC_PROTO parameter: its name (empty when unnamed) and type (0 for the varargs marker).
public struct BTFParameter: Hashable, Sendable {
    public let name: String
    public let nameOffset: UInt32
    public let type: UInt32

    /// Whether this is the `...` marker that ends a varargs prototype.
    public var isVarargs: Bool { type == 0 && nameOffset == 0 }

    public init(name: String, nameOffset: UInt32, type: UInt32) {
        self.name = name
        self.nameOffset = nameOffset
        self.type = type
    }
}

/// One entry of a DATASEC: the VAR (or extern FUNC) it describes and where it lives in the section.
public struct BTFDataSectionVariable: Hashable, Sendable {
    /// The VAR or FUNC type id.
    public let type: UInt32
    /// The byte offset in the section as stored (clang writes 0 for global symbols; the loader
    /// takes the symbol's value instead).
    public let offset: Int
    public let size: Int

    public init(type: UInt32, offset: Int, size: Int) {
        self.type = type
        self.offset = offset
        self.size = size
    }
}
