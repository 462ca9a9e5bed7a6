import BPFVM

/// bpftool 7.1's `dump_btf_type` in plain-text mode.
struct RawDumper {
    let btf: BTF

    func write(to writer: inout ByteWriter) {
        for type in btf.types.dropFirst() { append(type, to: &writer) }
    }

    func append(_ type: BTFType, to w: inout ByteWriter) {
        let header = type.header
        w.append(UInt8(ascii: "["))
        w.append(type.id)
        w.append("] ")
        w.appendText(type.kind.code.name)
        w.append(" '")
        w.appendNameOrAnonymous(header.nameOffset)
        w.append(UInt8(ascii: "'"))
        switch type.kind {
        case .void:
            break
        case .int(let size, let encoding, let offset, let bits):
            w.appendField(" size=", size)
            w.appendField(" bits_offset=", offset)
            w.appendField(" nr_bits=", bits)
            w.append(" encoding=")
            w.appendText(encoding.name)
        case .pointer(let id), .const(let id), .volatile(let id), .restrict(let id), .typedef(let id), .typeTag(let id):
            w.appendField(" type_id=", id)
        case .array(let element, let index, let count):
            w.appendField(" type_id=", element)
            w.appendField(" index_type_id=", index)
            w.appendField(" nr_elems=", count)
        case .structure(let size, let members), .union(let size, let members):
            w.appendField(" size=", size)
            w.appendField(" vlen=", header.vlen)
            for member in members {
                w.append("\n\t'")
                w.appendNameOrAnonymous(member.nameOffset)
                w.appendField("' type_id=", member.type)
                w.appendField(" bits_offset=", member.bitOffset)
                if member.bitfieldSize != 0 {
                    w.appendField(" bitfield_size=", member.bitfieldSize)
                }
            }
        case .enumeration(let size, let isSigned, let values), .enumeration64(let size, let isSigned, let values):
            let is64 = type.kind.code == .enumeration64
            w.append(isSigned ? " encoding=SIGNED size=" : " encoding=UNSIGNED size=")
            w.append(size)
            w.appendField(" vlen=", header.vlen)
            for value in values {
                w.append("\n\t'")
                w.appendNameOrAnonymous(value.nameOffset)
                w.append("' val=")
                switch (is64, isSigned) {
                case (false, true): w.append(Int64(Int32(truncatingIfNeeded: value.value)))
                case (false, false): w.append(UInt64(UInt32(truncatingIfNeeded: value.value)))
                case (true, true):
                    w.append(value.value)
                    w.append("LL")
                case (true, false):
                    w.append(value.unsignedValue)
                    w.append("ULL")
                }
            }
        case .forward(let isUnion):
            w.append(isUnion ? " fwd_kind=union" : " fwd_kind=struct")
        case .function(let proto, let linkage):
            w.appendField(" type_id=", proto)
            w.append(" linkage=")
            w.appendText(linkage.name)
        case .functionProto(let returnType, let parameters):
            w.appendField(" ret_type_id=", returnType)
            w.appendField(" vlen=", header.vlen)
            for parameter in parameters {
                w.append("\n\t'")
                w.appendNameOrAnonymous(parameter.nameOffset)
                w.appendField("' type_id=", parameter.type)
            }
        case .variable(let id, let linkage):
            w.appendField(" type_id=", id)
            w.append(", linkage=")
            w.appendText(linkage.name)
        case .dataSection(let size, let entries):
            w.appendField(" size=", size)
            w.appendField(" vlen=", header.vlen)
            for entry in entries {
                w.appendField("\n\ttype_id=", entry.type)
                w.appendField(" offset=", entry.offset)
                w.appendField(" size=", entry.size)
                if let target = btf.type(entry.type) {
                    w.append(" (")
                    w.appendText(target.kind.code.name)
                    w.append(" '")
                    w.appendNameOrAnonymous(target.header.nameOffset)
                    w.append("')")
                }
            }
        case .float(let size):
            w.appendField(" size=", size)
        case .declTag(let id, let componentIndex):
            w.appendField(" type_id=", id)
            w.appendField(" component_idx=", componentIndex)
        }
        w.append(UInt8(ascii: "\n"))
    }
}
