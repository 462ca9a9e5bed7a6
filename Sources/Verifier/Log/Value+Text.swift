import BPFVM

extension Value {
    /// The type's name in the kernel's messages (`scalar`, `map_value_or_null`, `fp`, ...).
    var typeName: String {
        switch type {
        case .notInitialized: return "?"
        case .scalar: return "scalar"
        case .pointer(let kind):
            let base = switch kind {
            case .context: "ctx"
            case .stack: "fp"
            case .map: "map_ptr"
            case .mapValue: "map_value"
            case .packet: "pkt"
            case .packetEnd: "pkt_end"
            case .packetMeta: "pkt_meta"
            case .memory: "ringbuf_mem"
            case .host: "ptr_"
            case .function: "func"
            }
            return maybeNull ? base + "_or_null" : base
        }
    }

    /// The value as the kernel's level-2 log prints a register (`ctx()`, `fp-8`, `5`,
    /// `scalar(smin=0,smax=umax=10,var_off=(0x0; 0xf))`, `map_value_or_null(id=1,map=m,ks=4,vs=8)`).
    func logText(maps: [MapDefinition], hostTypeName: (UInt32) -> String) -> String {
        switch type {
        case .notInitialized:
            return "?"
        case .scalar:
            if let constant = scalar.constantValue { return Scalar.number(Int64(bitPattern: constant)) }
            return "scalar(" + scalar.boundsText + ")"
        case .pointer(let kind):
            var attributes: [String] = []
            if id != 0 && (maybeNull || kind == .packet || kind == .packetMeta) { attributes.append("id=\(id)") }
            if reference != 0 { attributes.append("ref_obj_id=\(reference)") }
            switch kind {
            case .stack(let frame):
                let total = offset + (scalar.constantValue.map { Int64(bitPattern: $0) } ?? 0)
                let prefix = frame == 0 ? "fp" : "fp[\(frame)]"
                if !scalar.isConstant { return prefix + "(off=\(offset),\(scalar.boundsText))" }
                return prefix + (total == 0 ? "0" : "\(total)")
            case .map(let index), .mapValue(let index):
                let map = maps[index]
                attributes.append("map=\(map.name)")
                attributes.append("ks=\(map.keySize),vs=\(map.valueSize)")
            case .memory(let size):
                attributes.append("sz=\(size)")
            case .packet, .packetMeta:
                attributes.append("r=\(range)")
            case .host(let typeID):
                return typeName + hostTypeName(typeID) + (offset != 0 ? "(off=\(offset))" : "()")
            case .context, .packetEnd, .function:
                break
            }
            if offset != 0 { attributes.append("off=\(offset)") }
            if !scalar.isConstant || scalar.constantValue != 0 { attributes.append(scalar.boundsText) }
            return typeName + "(" + attributes.joined(separator: ",") + ")"
        }
    }
}

extension Scalar {
    /// A number as the kernel prints one: decimal when small, hex otherwise.
    static func number(_ value: Int64) -> String {
        if value >= -32768 && value <= 65535 { return String(value) }
        return "0x" + String(UInt64(bitPattern: value), radix: 16)
    }

    /// `var_off=(0x0; 0xf)`.
    var tnumText: String {
        "(0x\(String(tnum.value, radix: 16)); 0x\(String(tnum.mask, radix: 16)))"
    }

    /// The bounds that differ from "anything", equal ones merged (`smax=umax=10`), then the tnum.
    var boundsText: String {
        let fields: [(String, Int64, Bool)] = [
            ("smin", b64.smin, b64.smin == .min),
            ("smax", b64.smax, b64.smax == .max),
            ("umin", Int64(bitPattern: b64.umin), b64.umin == 0),
            ("umax", Int64(bitPattern: b64.umax), b64.umax == .max),
            ("smin32", Int64(b32.smin), b32.smin == .min),
            ("smax32", Int64(b32.smax), b32.smax == .max),
            ("umin32", Int64(b32.umin), b32.umin == 0),
            ("umax32", Int64(b32.umax), b32.umax == .max),
        ]
        var printed = [Bool](repeating: false, count: fields.count)
        var parts: [String] = []
        for index in fields.indices where !fields[index].2 && !printed[index] {
            var names = [fields[index].0]
            for other in (index + 1)..<fields.count where !fields[other].2 && !printed[other]
                && fields[other].1 == fields[index].1
            {
                names.append(fields[other].0)
                printed[other] = true
            }
            parts.append(names.joined(separator: "=") + "=" + Scalar.number(fields[index].1))
        }
        if tnum != .unknown { parts.append("var_off=" + tnumText) }
        return parts.joined(separator: ",")
    }
}
