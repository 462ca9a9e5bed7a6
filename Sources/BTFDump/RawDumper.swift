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
            w.append(" size=")
            w.append(size)
            w.append(" bits_offset=")
            w.append(offset)
            w.append(" nr_bits=")
            w.append(bits)
            w.append(" encoding=")
            w.appendText(encoding.name)
        case .pointer(let id), .const(let id), .volatile(let id), .restrict(let id), .typedef(let id), .typeTag(let id):
            w.append(" type_id=")
            w.append(id)
        case .array(let element, let index, let count):
            w.append(" type_id=")
            w.append(element)
            w.append(" index_type_id=")
            w.append(index)
            w.append(" nr_elems=")
            w.append(count)
        case .structure(let size, let members), .union(let size, let members):
            w.append(" size=")
            w.append(size)
            w.append(" vlen=")
            w.append(header.vlen)
            for member in members {
                w.append("\n\t'")
                w.appendNameOrAnonymous(member.nameOffset)
                w.append("' type_id=")
                w.append(member.type)
                w.append(" bits_offset=")
                w.append(member.bitOffset)
                if member.bitfieldSize != 0 {
                    w.append(" bitfield_size=")
                    w.append(member.bitfieldSize)
                }
            }
        case .enumeration(let size, let isSigned, let values), .enumeration64(let size, let isSigned, let values):
            let is64 = type.kind.code == .enumeration64
            w.append(isSigned ? " encoding=SIGNED size=" : " encoding=UNSIGNED size=")
            w.append(size)
            w.append(" vlen=")
            w.append(header.vlen)
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
            w.append(" type_id=")
            w.append(proto)
            w.append(" linkage=")
            w.appendText(linkage.name)
        case .functionProto(let returnType, let parameters):
            w.append(" ret_type_id=")
            w.append(returnType)
            w.append(" vlen=")
            w.append(header.vlen)
            for parameter in parameters {
                w.append("\n\t'")
                w.appendNameOrAnonymous(parameter.nameOffset)
                w.append("' type_id=")
                w.append(parameter.type)
            }
        case .variable(let id, let linkage):
            w.append(" type_id=")
            w.append(id)
            w.append(", linkage=")
            w.appendText(linkage.name)
        case .dataSection(let size, let entries):
            w.append(" size=")
            w.append(size)
            w.append(" vlen=")
            w.append(header.vlen)
            for entry in entries {
                w.append("\n\ttype_id=")
                w.append(entry.type)
                w.append(" offset=")
                w.append(entry.offset)
                w.append(" size=")
                w.append(entry.size)
                if let target = btf.type(entry.type) {
                    w.append(" (")
                    w.appendText(target.kind.code.name)
                    w.append(" '")
                    w.appendNameOrAnonymous(target.header.nameOffset)
                    w.append("')")
                }
            }
        case .float(let size):
            w.append(" size=")
            w.append(size)
        case .declTag(let id, let componentIndex):
            w.append(" type_id=")
            w.append(id)
            w.append(" component_idx=")
            w.append(componentIndex)
        }
        w.append(UInt8(ascii: "\n"))
    }
}
