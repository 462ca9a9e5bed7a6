import BPFVM

/// bpftool 7.1's `dump_btf_type` in JSON mode, written through a copy of its compact JSON writer.
struct JSONDumper {
    let btf: BTF

    func write(to writer: consuming ByteWriter) -> ByteWriter {
        var w = JSONWriter(writer)
        w.startObject()
        w.name("types")
        w.startArray()
        for type in btf.types.dropFirst() { append(type, to: &w) }
        w.endArray()
        w.endObject()
        return w.finish()
    }

    func append(_ type: BTFType, to w: inout JSONWriter) {
        let header = type.header
        w.startObject()
        w.field("id", unsigned: UInt64(type.id))
        w.field("kind", type.kind.code.name)
        w.field("name", nameOffset: header.nameOffset)
        switch type.kind {
        case .void:
            break
        case .int(let size, let encoding, let offset, let bits):
            w.field("size", unsigned: UInt64(size))
            w.field("bits_offset", unsigned: UInt64(offset))
            w.field("nr_bits", unsigned: UInt64(bits))
            w.field("encoding", encoding.name)
        case .pointer(let id), .const(let id), .volatile(let id), .restrict(let id), .typedef(let id), .typeTag(let id):
            w.field("type_id", unsigned: UInt64(id))
        case .array(let element, let index, let count):
            w.field("type_id", unsigned: UInt64(element))
            w.field("index_type_id", unsigned: UInt64(index))
            w.field("nr_elems", unsigned: UInt64(count))
        case .structure(let size, let members), .union(let size, let members):
            w.field("size", unsigned: UInt64(size))
            w.field("vlen", unsigned: UInt64(header.vlen))
            w.name("members")
            w.startArray()
            for member in members {
                w.startObject()
                w.field("name", nameOffset: member.nameOffset)
                w.field("type_id", unsigned: UInt64(member.type))
                w.field("bits_offset", unsigned: UInt64(member.bitOffset))
                if member.bitfieldSize != 0 { w.field("bitfield_size", unsigned: UInt64(member.bitfieldSize)) }
                w.endObject()
            }
            w.endArray()
        case .enumeration(let size, let isSigned, let values), .enumeration64(let size, let isSigned, let values):
            let is64 = type.kind.code == .enumeration64
            w.field("encoding", isSigned ? "SIGNED" : "UNSIGNED")
            w.field("size", unsigned: UInt64(size))
            w.field("vlen", unsigned: UInt64(header.vlen))
            w.name("values")
            w.startArray()
            for value in values {
                w.startObject()
                w.field("name", nameOffset: value.nameOffset)
                if isSigned {
                    w.field("val", signed: value.value)
                } else if is64 {
                    w.field("val", unsigned: value.unsignedValue)
                } else {
                    // bpftool passes the s32 field to a u64 parameter: sign extension.
                    w.field("val", unsigned: UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: value.value))))
                }
                w.endObject()
            }
            w.endArray()
        case .forward(let isUnion):
            w.field("fwd_kind", isUnion ? "union" : "struct")
        case .function(let proto, let linkage):
            w.field("type_id", unsigned: UInt64(proto))
            w.field("linkage", linkage.name)
        case .functionProto(let returnType, let parameters):
            w.field("ret_type_id", unsigned: UInt64(returnType))
            w.field("vlen", unsigned: UInt64(header.vlen))
            w.name("params")
            w.startArray()
            for parameter in parameters {
                w.startObject()
                w.field("name", nameOffset: parameter.nameOffset)
                w.field("type_id", unsigned: UInt64(parameter.type))
                w.endObject()
            }
            w.endArray()
        case .variable(let id, let linkage):
            w.field("type_id", unsigned: UInt64(id))
            w.field("linkage", linkage.name)
        case .dataSection(let size, let entries):
            w.field("size", unsigned: UInt64(size))
            w.field("vlen", unsigned: UInt64(header.vlen))
            w.name("vars")
            w.startArray()
            for entry in entries {
                w.startObject()
                w.field("type_id", unsigned: UInt64(entry.type))
                w.field("offset", unsigned: UInt64(entry.offset))
                w.field("size", unsigned: UInt64(entry.size))
                w.endObject()
            }
            w.endArray()
        case .float(let size):
            w.field("size", unsigned: UInt64(size))
        case .declTag(let id, let componentIndex):
            w.field("type_id", unsigned: UInt64(id))
            w.field("component_idx", signed: Int64(componentIndex))
        }
        w.endObject()
    }
}

/// bpftool 7.1's `json_writer.c` in compact mode: no whitespace, a comma before every element
/// but the first, a newline at the end; strings escape `\t \n \r \f \b "` and, as that version
/// does, write a backslash as `\n`; other bytes go out unchanged.
struct JSONWriter: ~Copyable {
    private var output: ByteWriter
    /// Whether the current object or array already has an element (the writer's `sep`).
    private var needsSeparator = false

    init(_ output: consuming ByteWriter) {
        self.output = output
    }

    mutating func startObject() { begin(UInt8(ascii: "{")) }
    mutating func endObject() { end(UInt8(ascii: "}")) }
    mutating func startArray() { begin(UInt8(ascii: "[")) }
    mutating func endArray() { end(UInt8(ascii: "]")) }

    private mutating func begin(_ bracket: UInt8) {
        separate()
        output.append(bracket)
        needsSeparator = false
    }

    private mutating func end(_ bracket: UInt8) {
        output.append(bracket)
        needsSeparator = true
    }

    private mutating func separate() {
        if needsSeparator { output.append(UInt8(ascii: ",")) }
        needsSeparator = true
    }

    /// A key (as json_writer's `jsonw_name`, always plain text here).
    mutating func name(_ key: StaticString) {
        separate()
        output.append(UInt8(ascii: "\""))
        output.append(key)
        output.append("\":")
        needsSeparator = false
    }

    mutating func field(_ key: StaticString, _ value: String) {
        name(key)
        separate()
        var value = value
        value.withUTF8 { put($0) }
    }

    /// A field whose value is the name at `nameOffset`, or `(anon)` for offset 0 (bpftool's `btf_str`).
    mutating func field(_ key: StaticString, nameOffset: UInt32) {
        name(key)
        separate()
        if nameOffset == 0 {
            output.append("\"(anon)\"")
        } else {
            put(output.name(nameOffset))
        }
    }

    mutating func field(_ key: StaticString, unsigned value: UInt64) {
        name(key)
        separate()
        output.append(value)
    }

    mutating func field(_ key: StaticString, signed value: Int64) {
        name(key)
        separate()
        output.append(value)
    }

    private mutating func put(_ text: UnsafeBufferPointer<UInt8>) {
        output.append(UInt8(ascii: "\""))
        var plainStart = 0
        for (index, byte) in text.enumerated() {
            let escape: StaticString
            switch byte {
            case 0x09: escape = "\\t"
            case 0x0a: escape = "\\n"
            case 0x0d: escape = "\\r"
            case 0x0c: escape = "\\f"
            case 0x08: escape = "\\b"
            case 0x5c: escape = "\\n"
            case 0x22: escape = "\\\""
            default: continue
            }
            output.append(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: text[plainStart..<index])))
            output.append(escape)
            plainStart = index + 1
        }
        output.append(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: text[plainStart...])))
        output.append(UInt8(ascii: "\""))
    }

    consuming func finish() -> ByteWriter {
        output.append(UInt8(ascii: "\n"))
        return output
    }
}
