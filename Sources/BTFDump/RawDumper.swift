import BPFVM

/// bpftool 7.1's `dump_btf_type` in plain-text mode.
struct RawDumper {
    let btf: BTF

    func dump() -> String {
        var output = ""
        output.reserveCapacity(btf.count * 48)
        for type in btf.types.dropFirst() { append(type, to: &output) }
        return output
    }

    /// bpftool's `btf_str`: `(anon)` for name offset 0.
    static func name(_ text: String, offset: UInt32) -> String {
        offset == 0 ? "(anon)" : text
    }

    func append(_ type: BTFType, to output: inout String) {
        let header = type.header
        output += "[\(type.id)] \(type.kind.code.name) '\(Self.name(type.name, offset: header.nameOffset))'"
        switch type.kind {
        case .void:
            break
        case .int(let size, let encoding, let offset, let bits):
            output += " size=\(size) bits_offset=\(offset) nr_bits=\(bits) encoding=\(encoding.name)"
        case .pointer(let id), .const(let id), .volatile(let id), .restrict(let id), .typedef(let id), .typeTag(let id):
            output += " type_id=\(id)"
        case .array(let element, let index, let count):
            output += " type_id=\(element) index_type_id=\(index) nr_elems=\(count)"
        case .structure(let size, let members), .union(let size, let members):
            output += " size=\(size) vlen=\(header.vlen)"
            for member in members {
                output += "\n\t'\(Self.name(member.name, offset: member.nameOffset))' type_id=\(member.type) bits_offset=\(member.bitOffset)"
                if member.bitfieldSize != 0 { output += " bitfield_size=\(member.bitfieldSize)" }
            }
        case .enumeration(let size, let isSigned, let values):
            output += " encoding=\(isSigned ? "SIGNED" : "UNSIGNED") size=\(size) vlen=\(header.vlen)"
            for value in values {
                let text = isSigned ? String(Int32(truncatingIfNeeded: value.value)) : String(UInt32(truncatingIfNeeded: value.value))
                output += "\n\t'\(Self.name(value.name, offset: value.nameOffset))' val=\(text)"
            }
        case .enumeration64(let size, let isSigned, let values):
            output += " encoding=\(isSigned ? "SIGNED" : "UNSIGNED") size=\(size) vlen=\(header.vlen)"
            for value in values {
                let text = isSigned ? "\(value.value)LL" : "\(value.unsignedValue)ULL"
                output += "\n\t'\(Self.name(value.name, offset: value.nameOffset))' val=\(text)"
            }
        case .forward(let isUnion):
            output += " fwd_kind=\(isUnion ? "union" : "struct")"
        case .function(let proto, let linkage):
            output += " type_id=\(proto) linkage=\(linkage.name)"
        case .functionProto(let returnType, let parameters):
            output += " ret_type_id=\(returnType) vlen=\(header.vlen)"
            for parameter in parameters {
                output += "\n\t'\(Self.name(parameter.name, offset: parameter.nameOffset))' type_id=\(parameter.type)"
            }
        case .variable(let id, let linkage):
            output += " type_id=\(id), linkage=\(linkage.name)"
        case .dataSection(let size, let entries):
            output += " size=\(size) vlen=\(header.vlen)"
            for entry in entries {
                output += "\n\ttype_id=\(entry.type) offset=\(entry.offset) size=\(entry.size)"
                if let target = btf.type(entry.type) {
                    output += " (\(target.kind.code.name) '\(Self.name(target.name, offset: target.header.nameOffset))')"
                }
            }
        case .float(let size):
            output += " size=\(size)"
        case .declTag(let id, let componentIndex):
            output += " type_id=\(id) component_idx=\(componentIndex)"
        }
        output += "\n"
    }
}
