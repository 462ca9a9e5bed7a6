import BPFVM

/// bpftool 7.1's `dump_btf_type` in JSON mode, written through a copy of its compact JSON writer.
struct JSONDumper {
    let btf: BTF

    func dump() -> String {
        var writer = JSONWriter()
        writer.startObject()
        writer.name("types")
        writer.startArray()
        for type in btf.types.dropFirst() { append(type, to: &writer) }
        writer.endArray()
        writer.endObject()
        return writer.finish()
    }

    func append(_ type: BTFType, to w: inout JSONWriter) {
        let header = type.header
        w.startObject()
        w.field("id", unsigned: UInt64(type.id))
        w.field("kind", type.kind.code.name)
        w.field("name", RawDumper.name(type.name, offset: header.nameOffset))
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
                w.field("name", RawDumper.name(member.name, offset: member.nameOffset))
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
                w.field("name", RawDumper.name(value.name, offset: value.nameOffset))
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
                w.field("name", RawDumper.name(parameter.name, offset: parameter.nameOffset))
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
struct JSONWriter {
    private var output = ""
    /// Whether the current object or array already has an element (the writer's `sep`).
    private var needsSeparator = false

    mutating func startObject() { begin("{") }
    mutating func endObject() { end("}") }
    mutating func startArray() { begin("[") }
    mutating func endArray() { end("]") }

    private mutating func begin(_ bracket: String) {
        separate()
        output += bracket
        needsSeparator = false
    }

    private mutating func end(_ bracket: String) {
        output += bracket
        needsSeparator = true
    }

    private mutating func separate() {
        if needsSeparator { output += "," }
        needsSeparator = true
    }

    mutating func name(_ text: String) {
        separate()
        put(text)
        output += ":"
        needsSeparator = false
    }

    mutating func field(_ key: String, _ value: String) {
        name(key)
        separate()
        put(value)
    }

    mutating func field(_ key: String, unsigned value: UInt64) {
        name(key)
        separate()
        output += String(value)
    }

    mutating func field(_ key: String, signed value: Int64) {
        name(key)
        separate()
        output += String(value)
    }

    private mutating func put(_ text: String) {
        output += "\""
        if !text.utf8.contains(where: { $0 == 0x5c || $0 == 0x22 || ($0 < 0x0e && $0 >= 0x08) }) {
            output += text
            output += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\t": output += "\\t"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\u{0C}": output += "\\f"
            case "\u{08}": output += "\\b"
            case "\\": output += "\\n"
            case "\"": output += "\\\""
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }

    mutating func finish() -> String {
        output + "\n"
    }
}
