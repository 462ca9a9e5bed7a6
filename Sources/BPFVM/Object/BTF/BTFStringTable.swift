/// The string section of a BTF: NUL-terminated strings addressed by byte offset. Validated to
/// start and end with a NUL byte, so every lookup of an in-range offset terminates.
struct BTFStringTable: Sendable {
    /// The whole BTF data, with its byte order: the one reference a BTF's types, components and names share.
    let reader: BTFByteReader
    /// Where the string section starts in `bytes`.
    let start: Int
    /// The string section's length.
    let length: Int

    /// The whole BTF data.
    var bytes: [UInt8] { reader.bytes }

    /// The kernel's largest name offset (`BTF_MAX_NAME_OFFSET`).
    static let maximumOffset: UInt32 = 0xff_ffff
    /// The kernel's longest identifier (`KSYM_NAME_LEN`).
    static let maximumIdentifierLength = 512

    /// Whether `offset` is a valid name offset (`btf_name_offset_valid`).
    func isValid(_ offset: UInt32) -> Bool {
        offset <= Self.maximumOffset && Int(offset) < length
    }

    /// The bytes of the string at `offset` (without its NUL), or nil if out of range.
    func rawString(at offset: UInt32) -> ArraySlice<UInt8>? {
        guard let (length, _) = scan(offset) else { return nil }
        let first = start + Int(offset)
        return bytes[first..<first + length]
    }

    /// The length of the string at `offset` and whether it is a valid identifier, in one pass over
    /// its bytes; nil if `offset` is out of range. An identifier is the kernel's `__btf_name_valid`:
    /// a first character that is a letter, `_` or `.`, then letters, digits, `_` and `.`, at most 512
    /// characters; letters include Latin-1 ones as in the kernel's `ctype` table.
    func scan(_ offset: UInt32) -> (length: Int, isIdentifier: Bool)? {
        guard isValid(offset) else { return nil }
        let first = start + Int(offset), end = start + length
        return bytes.withUnsafeBufferPointer { all in
            Self.identifierClass.withUnsafeBufferPointer { classes in
                // The section ends with a NUL (checked when the BTF is parsed), so the loop stops inside it.
                var cursor = first
                var isIdentifier = cursor < end && classes[Int(all[cursor])] == 2
                while cursor < end {
                    let byteClass = classes[Int(all[cursor])]
                    if byteClass == 0 { break }
                    isIdentifier = isIdentifier && byteClass != 3
                    cursor += 1
                }
                let length = cursor - first
                return (length, isIdentifier && length <= Self.maximumIdentifierLength)
            }
        }
    }

    /// Per byte: 0 NUL, 1 a digit (may continue an identifier), 2 a letter, `_` or `.` (may start one), 3 anything
    /// else.
    private static let identifierClass: [UInt8] = (0...255).map { value in
        let byte = UInt8(value)
        if byte == 0 { return 0 }
        if isIdentifierStart(byte) { return 2 }
        return isIdentifierContinuation(byte) ? 1 : 3
    }

    /// The string at `offset`, or nil if out of range. Invalid UTF-8 is repaired.
    func string(at offset: UInt32) -> String? {
        guard let raw = rawString(at: offset) else { return nil }
        return String(decoding: raw, as: UTF8.self)
    }

    static func isIdentifierStart(_ byte: UInt8) -> Bool {
        isAlpha(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }

    static func isIdentifierContinuation(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// `isalpha` of the kernel's `lib/ctype.c` (ASCII plus the Latin-1 letters).
    static func isAlpha(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): true
        case 0xc0...0xd6, 0xd8...0xf6, 0xf8...0xff: true
        default: false
        }
    }
}

/// Reads the names a BTF's records refer to, within a budget of name bytes proportional to the
/// input. Every use of a name is charged, so the work that follows (hashing, comparing, printing
/// names) stays linear too: records naming distinct offsets inside one long string, or one long
/// string many times, would otherwise cost time quadratic in the input. ``scan(_:)`` checks a
/// name without making a string of it; ``lookup(_:)`` makes one, once per offset.
final class BTFNameDecoder {
    let table: BTFStringTable
    private var cache: [UInt32: (text: String, isIdentifier: Bool, isEmpty: Bool)] = [:]
    private var budget: Int

    /// `inputSize`: the bytes of the input the names are for (the BTF, or the BTF.ext).
    init(table: BTFStringTable, inputSize: Int? = nil) {
        self.table = table
        budget = 1 << 24 + 16 * (inputSize ?? table.bytes.count)
    }

    /// Whether `offset` is a valid name offset.
    func isValid(_ offset: UInt32) -> Bool { table.isValid(offset) }

    /// Whether the name at a valid `offset` is a valid identifier, and whether it is empty.
    func scan(_ offset: UInt32) throws(BTFError) -> (isIdentifier: Bool, isEmpty: Bool) {
        guard let (length, isIdentifier) = table.scan(offset) else { return (false, true) }
        budget -= length + 1
        guard budget >= 0 else { throw BTFError(.stringSection, .namesTooLarge) }
        return (isIdentifier, length == 0)
    }

    /// The name at `offset`, for a message ("" when out of range); not charged.
    func text(_ offset: UInt32) -> String {
        table.string(at: offset) ?? ""
    }

    /// The string at a valid `offset`, whether it is a valid identifier, and whether it is empty.
    func lookup(_ offset: UInt32) throws(BTFError) -> (text: String, isIdentifier: Bool, isEmpty: Bool) {
        if let cached = cache[offset] {
            budget -= cached.text.utf8.count + 1
            guard budget >= 0 else { throw BTFError(.stringSection, .namesTooLarge) }
            return cached
        }
        guard let (length, isIdentifier) = table.scan(offset) else { return ("", false, true) }
        budget -= length + 1
        guard budget >= 0 else { throw BTFError(.stringSection, .namesTooLarge) }
        let entry = (table.string(at: offset) ?? "", isIdentifier, length == 0)
        cache[offset] = entry
        return entry
    }
}
