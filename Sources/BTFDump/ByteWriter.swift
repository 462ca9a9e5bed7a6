#if canImport(Glibc)
import Glibc
#endif

/// The text of a dump as bytes, handed to an output in chunks of 64 KiB as it is written, so that
/// a dump of any size takes the same little memory. Names are copied from the BTF's string section
/// as they are stored, byte for byte, as bpftool prints them.
struct ByteWriter: ~Copyable {
    static let capacity = 1 << 16

    private let buffer: UnsafeMutablePointer<UInt8>
    private var count = 0
    private let output: (UnsafeRawBufferPointer) -> Void
    /// The BTF's string section, which names index.
    let strings: UnsafeBufferPointer<UInt8>

    init(strings: UnsafeBufferPointer<UInt8>, output: @escaping (UnsafeRawBufferPointer) -> Void) {
        buffer = .allocate(capacity: Self.capacity)
        self.strings = strings
        self.output = output
    }

    deinit { buffer.deallocate() }

    /// Hands what is buffered to the output.
    mutating func flush() {
        guard count > 0 else { return }
        output(UnsafeRawBufferPointer(start: buffer, count: count))
        count = 0
    }

    /// Room for `size` more bytes (at most `capacity`).
    @inline(__always)
    private mutating func reserve(_ size: Int) {
        if count + size > Self.capacity { flush() }
    }

    mutating func append(_ byte: UInt8) {
        reserve(1)
        buffer[count] = byte
        count += 1
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count <= Self.capacity else {
            flush()
            output(bytes)
            return
        }
        reserve(bytes.count)
        if let base = bytes.baseAddress { (buffer + count).update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
        count += bytes.count
    }

    /// A short text (a kind or linkage name).
    mutating func appendText(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// The name at `offset` of the string section, as stored.
    mutating func appendName(_ offset: UInt32) {
        append(UnsafeRawBufferPointer(name(offset)))
    }

    /// The bytes of the name at `offset` (the section ends with a NUL, so every name ends before it).
    func name(_ offset: UInt32) -> UnsafeBufferPointer<UInt8> {
        guard let base = strings.baseAddress, Int(offset) < strings.count else { return UnsafeBufferPointer(start: nil, count: 0) }
        let start = base + Int(offset)
        return UnsafeBufferPointer(start: start, count: strlen(UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self)))
    }

    /// bpftool's `btf_str`: `(anon)` for name offset 0, else the name.
    mutating func appendNameOrAnonymous(_ offset: UInt32) {
        if offset == 0 { append("(anon)") } else { appendName(offset) }
    }

    mutating func append(_ value: UInt64) {
        reserve(20)
        if value < 10 {
            buffer[count] = UInt8(truncatingIfNeeded: value) &+ 0x30
            count += 1
            return
        }
        var digits = 0
        var rest = value
        while rest > 0 { digits += 1; rest /= 10 }
        rest = value
        for position in stride(from: count + digits - 1, through: count, by: -1) {
            buffer[position] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
            rest /= 10
        }
        count += digits
    }

    /// A label such as ` size=` and a number.
    mutating func appendField(_ label: StaticString, _ value: some BinaryInteger) {
        append(label)
        if let unsigned = UInt64(exactly: value) { append(unsigned) } else { append(Int64(value)) }
    }

    mutating func append(_ value: Int) {
        append(Int64(value))
    }

    mutating func append(_ value: Int64) {
        if value < 0 {
            append(UInt8(ascii: "-"))
            append(value.magnitude)
        } else {
            append(UInt64(value))
        }
    }

    mutating func append(_ value: UInt32) {
        append(UInt64(value))
    }
}
