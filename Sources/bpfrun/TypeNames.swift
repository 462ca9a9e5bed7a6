import BPFVM

/// C spellings of BTF types, as bpftool prints them in program prototypes.
enum TypeNames {
    /// `int`, `struct file *`, `unsigned long long *`, `const char[16]`... (without a trailing space).
    static func name(of id: UInt32, in btf: BTF) -> String {
        var text = prefix(of: id, in: btf, depth: 0)
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }

    /// bpftool's rendering: a type name followed by a space, pointers as `* `.
    static func prefix(of id: UInt32, in btf: BTF, depth: Int) -> String {
        guard depth < 32, let type = btf.type(id) else { return "void " }
        switch type.kind {
        case .void: return "void "
        case .int, .typedef, .float: return "\(type.name) "
        case .structure: return "struct \(type.name) "
        case .union: return "union \(type.name) "
        case .enumeration, .enumeration64: return "enum \(type.name) "
        case .forward(let isUnion): return "\(isUnion ? "union" : "struct") \(type.name) "
        case .pointer(let target): return prefix(of: target, in: btf, depth: depth + 1) + "* "
        case .array(let element, _, let count):
            var text = prefix(of: element, in: btf, depth: depth + 1)
            while text.hasSuffix(" ") { text.removeLast() }
            return text + "[\(count)] "
        case .const(let target): return "const " + prefix(of: target, in: btf, depth: depth + 1)
        case .volatile(let target): return "volatile " + prefix(of: target, in: btf, depth: depth + 1)
        case .restrict(let target): return "restrict " + prefix(of: target, in: btf, depth: depth + 1)
        case .typeTag(let target), .declTag(let target, _): return prefix(of: target, in: btf, depth: depth + 1)
        case .functionProto: return "void (*)() "
        case .function, .variable, .dataSection: return "\(type.name) "
        }
    }

    /// A function's prototype from its BTF `FUNC` type: `int name(unsigned long long * ctx)`.
    static func prototype(ofFunction id: UInt32, in btf: BTF) -> String? {
        guard let function = btf.type(id), case .function(let protoID, _) = function.kind,
              let proto = btf.type(protoID), case .functionProto(let returnType, let parameters) = proto.kind
        else { return nil }
        let arguments = parameters.map { parameter -> String in
            if parameter.type == 0 { return "..." }
            let type = prefix(of: parameter.type, in: btf, depth: 0)
            return parameter.name.isEmpty ? String(type.dropLast()) : type + parameter.name
        }
        return prefix(of: returnType, in: btf, depth: 0) + function.name + "(" + arguments.joined(separator: ", ") + ")"
    }
}
