/// A struct or union member: its name (empty when anonymous), type, bit offset from the start of
/// the aggregate, and bitfield width as encoded by a `kind_flag` struct (0 when not a bitfield).
public struct BTFMember: BTFComponent {
    let storedName: BTFName
    /// The raw name offset (0 for an anonymous member).
    public let nameOffset: UInt32
    public let type: UInt32
    public let bitOffset: Int
    /// The bitfield width from the member's offset word when the struct's `kind_flag` is set; 0
    /// otherwise (a `kind_flag` 0 bitfield is described by its INT type's `bits` instead).
    public let bitfieldSize: Int

    public var name: String { storedName.text }

    public init(name: String, nameOffset: UInt32, type: UInt32, bitOffset: Int, bitfieldSize: Int) {
        self.init(storedName: .text(name), nameOffset: nameOffset, type: type, bitOffset: bitOffset,
                  bitfieldSize: bitfieldSize)
    }

    init(storedName: BTFName, nameOffset: UInt32, type: UInt32, bitOffset: Int, bitfieldSize: Int) {
        self.storedName = storedName
        self.nameOffset = nameOffset
        self.type = type
        self.bitOffset = bitOffset
        self.bitfieldSize = bitfieldSize
    }

    public init(storedIn components: BTFStoredComponents, at index: Int) {
        let raw = components.reader.member(data: components.start, index: index, kindFlag: components.kindFlag)
        self.init(storedName: components.name(raw.nameOffset), nameOffset: raw.nameOffset, type: raw.type,
                  bitOffset: raw.bitOffset, bitfieldSize: raw.bitfieldSize)
    }

}

/// One enumerator of an ENUM or ENUM64.
public struct BTFEnumValue: BTFComponent {
    let storedName: BTFName
    public let nameOffset: UInt32
    /// The value as C sees it: sign- or zero-extended from 32 bits for an ENUM according to its
    /// signedness; the 64-bit pattern for an ENUM64 (read `unsignedValue` for an unsigned one).
    public let value: Int64

    public var name: String { storedName.text }

    /// The value read as unsigned 64 bits.
    public var unsignedValue: UInt64 { UInt64(bitPattern: value) }

    public init(name: String, nameOffset: UInt32, value: Int64) {
        self.storedName = .text(name)
        self.nameOffset = nameOffset
        self.value = value
    }

    public init(storedIn components: BTFStoredComponents, at index: Int) {
        (nameOffset, value) = components.reader.enumerator(
            data: components.start, index: index, is64: components.code == .enumeration64,
            isSigned: components.kindFlag)
        storedName = components.name(nameOffset)
    }

}

/// A FUNC_PROTO parameter: its name (empty when unnamed) and type (0 for the varargs marker).
public struct BTFParameter: BTFComponent {
    let storedName: BTFName
    public let nameOffset: UInt32
    public let type: UInt32

    public var name: String { storedName.text }

    /// Whether this is the `...` marker that ends a varargs prototype.
    public var isVarargs: Bool { type == 0 && nameOffset == 0 }

    public init(name: String, nameOffset: UInt32, type: UInt32) {
        self.storedName = .text(name)
        self.nameOffset = nameOffset
        self.type = type
    }

    public init(storedIn components: BTFStoredComponents, at index: Int) {
        (nameOffset, type) = components.reader.parameter(data: components.start, index: index)
        storedName = components.name(nameOffset)
    }

}

/// One entry of a DATASEC: the VAR (or extern FUNC) it describes and where it lives in the section.
public struct BTFDataSectionVariable: BTFComponent {
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

    public init(storedIn components: BTFStoredComponents, at index: Int) {
        (type, offset, size) = components.reader.entry(data: components.start, index: index)
    }

}

/// A member, enumerator, parameter or DATASEC entry: an element of ``BTFComponents``, read from its
/// type's record when accessed.
public protocol BTFComponent: Hashable, Sendable {
    /// Reads component `index` of a record that has been validated.
    init(storedIn components: BTFStoredComponents, at index: Int)
}

/// The components of one type (members, enumerators, parameters, DATASEC entries), read from the
/// type's record as they are accessed, so that a BTF of any size holds no decoded copy of them; or
/// given as an array.
public struct BTFComponents<Element: BTFComponent>: RandomAccessCollection, Hashable, Sendable,
    ExpressibleByArrayLiteral
{
    enum Storage: Sendable {
        case elements([Element])
        case stored(BTFStoredComponents)
    }

    let storage: Storage

    public init(_ elements: [Element]) {
        storage = .elements(elements)
    }

    public init(arrayLiteral elements: Element...) {
        storage = .elements(elements)
    }

    init(stored: BTFStoredComponents) {
        storage = .stored(stored)
    }

    public var startIndex: Int { 0 }

    public var endIndex: Int {
        switch storage {
        case .elements(let elements): elements.count
        case .stored(let stored): stored.count
        }
    }

    public subscript(position: Int) -> Element {
        switch storage {
        case .elements(let elements):
            return elements[position]
        case .stored(let stored):
            // As an array's subscript, a position out of range is a programming error.
            precondition(position >= 0 && position < stored.count, "BTF component index out of range")
            return Element(storedIn: stored, at: position)
        }
    }

    public static func == (left: Self, right: Self) -> Bool {
        left.elementsEqual(right)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for element in self { hasher.combine(element) }
    }
}

/// Where a type's components are stored: the bytes after its 12-byte header, with what reading
/// them needs (the BTF data and its string section, the kind and its `kind_flag`).
public struct BTFStoredComponents: Sendable {
    let strings: BTFStringTable
    /// Where component 0 starts.
    let start: Int
    let count: Int
    let code: BTFKind.Code
    let kindFlag: Bool

    var reader: BTFByteReader { strings.reader }
    func name(_ offset: UInt32) -> BTFName { .stored(strings, offset) }
}

/// A name: text given, or an offset into a BTF's string section read when asked for.
enum BTFName: Hashable, Sendable {
    case text(String)
    case stored(BTFStringTable, UInt32)

    var text: String {
        switch self {
        case .text(let text): text
        case .stored(let strings, let offset): strings.string(at: offset) ?? ""
        }
    }

    static func == (left: Self, right: Self) -> Bool { left.text == right.text }

    func hash(into hasher: inout Hasher) { hasher.combine(text) }
}
