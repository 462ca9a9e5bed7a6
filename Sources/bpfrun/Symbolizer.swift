#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// Names for code addresses of this process (the frames of a stack trace), as far as the
/// dynamic linker knows them: `function+0xOFFSET (module)` with Swift names demangled, or
/// `module+0xOFFSET` when the address is in no exported symbol, or the bare address.
enum Symbolizer {
    static func describe(_ address: UInt64) -> String {
        var symbol: UnsafePointer<CChar>?
        var modulePath: UnsafePointer<CChar>?
        var start: UInt64 = 0
        var base: UInt64 = 0
        guard bpf_shim_symbol(address, &symbol, &start, &modulePath, &base) != 0 else {
            return "0x\(String(address, radix: 16))"
        }
        let module = modulePath.map { String(cString: $0).split(separator: "/").last.map(String.init) ?? "" } ?? "?"
        if let symbol {
            return "\(demangle(String(cString: symbol)))+0x\(String(address &- start, radix: 16)) (\(module))"
        }
        return "\(module)+0x\(String(address &- base, radix: 16))"
    }

    /// A Swift symbol's readable name (the Swift runtime's demangler), or `name` unchanged.
    static func demangle(_ name: String) -> String {
        guard name.hasPrefix("$s") || name.hasPrefix("_$s") else { return name }
        guard let result = name.withCString({ swift_demangle($0, strlen($0), nil, nil, 0) }) else { return name }
        defer { free(result) }
        return String(cString: result)
    }
}

@_silgen_name("swift_demangle")
private func swift_demangle(_ mangledName: UnsafePointer<CChar>?, _ length: Int, _ output: UnsafeMutablePointer<CChar>?,
                            _ outputSize: UnsafeMutablePointer<Int>?, _ flags: UInt32) -> UnsafeMutablePointer<CChar>?
