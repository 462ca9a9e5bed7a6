/// The printf subset that `bpf_trace_printk`, `bpf_trace_vprintk` and `bpf_snprintf` accept, as
/// the kernel's `bpf_bprintf_prepare` does: flags `-+ #0`, width, precision, lengths `hh h l ll z`,
/// conversions `d i u x X o c s p %`. Anything else (e.g. `%n`) makes the format invalid.
enum PrintFormat {
    /// Formats `format` (bytes up to the first NUL) with `arguments`; nil when the format is
    /// invalid or needs more arguments than given. `%s` reads strings fault-safely.
    static func format(_ format: some Collection<UInt8>, arguments: [UInt64]) -> String? {
        let bytes = Array(format.prefix(while: { $0 != 0 }))
        var output: [UInt8] = []
        var next = 0
        var index = 0
        func take() -> UInt64? {
            guard next < arguments.count else { return nil }
            defer { next += 1 }
            return arguments[next]
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            guard byte == UInt8(ascii: "%") else {
                output.append(byte)
                continue
            }
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "%") {
                output.append(byte)
                index += 1
                continue
            }
            var leftAlign = false, plus = false, space = false, alternate = false, zeroPad = false
            flags: while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "-"): leftAlign = true
                case UInt8(ascii: "+"): plus = true
                case UInt8(ascii: " "): space = true
                case UInt8(ascii: "#"): alternate = true
                case UInt8(ascii: "0"): zeroPad = true
                default: break flags
                }
                index += 1
            }
            var width = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                width = min(width * 10 + Int(bytes[index] - 48), 1024)
                index += 1
            }
            var precision: Int?
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                var value = 0
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    value = min(value * 10 + Int(bytes[index] - 48), 1024)
                    index += 1
                }
                precision = value
            }
            var bits = 32
            if index < bytes.count, bytes[index] == UInt8(ascii: "h") {
                index += 1
                bits = 16
                if index < bytes.count, bytes[index] == UInt8(ascii: "h") { index += 1; bits = 8 }
            } else if index < bytes.count, bytes[index] == UInt8(ascii: "l") {
                index += 1
                bits = 64
                if index < bytes.count, bytes[index] == UInt8(ascii: "l") { index += 1 }
            } else if index < bytes.count, bytes[index] == UInt8(ascii: "z") {
                index += 1
                bits = 64
            }
            guard index < bytes.count, let raw = take() else { return nil }
            let conversion = bytes[index]
            index += 1
            var text: String
            var isNumeric = true
            var isNegative = false
            switch conversion {
            case UInt8(ascii: "d"), UInt8(ascii: "i"):
                let value: Int64 = switch bits {
                case 8: Int64(Int8(truncatingIfNeeded: raw))
                case 16: Int64(Int16(truncatingIfNeeded: raw))
                case 32: Int64(Int32(truncatingIfNeeded: raw))
                default: Int64(bitPattern: raw)
                }
                isNegative = value < 0
                text = String(value.magnitude)
            case UInt8(ascii: "u"), UInt8(ascii: "x"), UInt8(ascii: "X"), UInt8(ascii: "o"):
                let value = bits == 64 ? raw : raw & ((1 << UInt64(bits)) - 1)
                let radix = conversion == UInt8(ascii: "o") ? 8 : (conversion == UInt8(ascii: "u") ? 10 : 16)
                text = String(value, radix: radix, uppercase: conversion == UInt8(ascii: "X"))
                if alternate && value != 0 && radix == 16 { text = (conversion == UInt8(ascii: "X") ? "0X" : "0x") + text }
                if alternate && radix == 8 && !text.hasPrefix("0") { text = "0" + text }
            case UInt8(ascii: "p"):
                // %p and its kernel variants (%pK, %px, %pS, ...) print the address in hex.
                while index < bytes.count, (65...90).contains(bytes[index]) || (97...122).contains(bytes[index]) { index += 1 }
                text = "0x" + String(raw, radix: 16)
                isNumeric = false
            case UInt8(ascii: "c"):
                text = String(UnicodeScalar(UInt8(truncatingIfNeeded: raw)))
                isNumeric = false
            case UInt8(ascii: "s"):
                text = FaultSafeMemory.string(at: raw, limit: precision ?? 1024) ?? "(efault)"
                if let precision { text = String(text.prefix(precision)) }
                isNumeric = false
            default:
                return nil
            }
            if isNumeric, let precision, text.count < precision {
                text = String(repeating: "0", count: precision - text.count) + text
            }
            var sign = ""
            if isNegative { sign = "-" } else if isNumeric && (conversion == UInt8(ascii: "d") || conversion == UInt8(ascii: "i")) {
                if plus { sign = "+" } else if space { sign = " " }
            }
            let length = sign.count + text.count
            if length < width {
                let padding = width - length
                if leftAlign {
                    text = sign + text + String(repeating: " ", count: padding)
                } else if zeroPad && isNumeric && precision == nil {
                    text = sign + String(repeating: "0", count: padding) + text
                } else {
                    text = String(repeating: " ", count: padding) + sign + text
                }
            } else {
                text = sign + text
            }
            output += Array(text.utf8)
        }
        return String(decoding: output, as: UTF8.self)
    }
}
