#if canImport(Glibc)
import Glibc
#endif

/// The values `__kconfig` externs read, as libbpf supplies them: `CONFIG_*` options from a
/// kernel configuration (the text of a `.config`: `CONFIG_X=y`, `=m`, `=n`, numbers, quoted
/// strings; libbpf reads the running kernel's, a host hands over the one its programs should
/// see), and libbpf's own `LINUX_*` values, which it computes itself: the kernel version from
/// `uname`, and whether syscalls go through wrappers and whether BPF cookies exist.
///
/// An extern that has no value here reads as 0 when it is `__weak`; a strong one is an error
/// naming it, as in libbpf.
public struct KernelConfig: Hashable, Sendable {
    /// `CONFIG_*` options by name, each value as written after `=` (`y`, `m`, `n`, `250`,
    /// `0x10`, `"text"`).
    public var options: [String: String]
    /// `LINUX_KERNEL_VERSION`: `KERNEL_VERSION(major, minor, patch)`, patch capped at 255.
    public var kernelVersion: UInt32
    /// `LINUX_HAS_SYSCALL_WRAPPER`: whether syscall entry points take a `struct pt_regs *`
    /// holding the real one (true on x86-64 since Linux 4.17, which is what programs here are
    /// compiled for).
    public var hasSyscallWrapper: Bool
    /// `LINUX_HAS_BPF_COOKIE`: whether attachments carry a cookie for `bpf_get_attach_cookie`
    /// (false: this runtime has no such helper).
    public var hasBPFCookie: Bool

    /// No `CONFIG_*` options, and libbpf's `LINUX_*` values for the running kernel.
    public init(options: [String: String] = [:], kernelVersion: UInt32 = KernelConfig.runningKernelVersion,
                hasSyscallWrapper: Bool = true, hasBPFCookie: Bool = false)
    {
        self.options = options
        self.kernelVersion = kernelVersion
        self.hasSyscallWrapper = hasSyscallWrapper
        self.hasBPFCookie = hasBPFCookie
    }

    /// The options of a kernel configuration's text. As libbpf, only lines starting with
    /// `CONFIG_` count (comments such as `# CONFIG_X is not set` do not), and each needs `=` and a
    /// value.
    public init(parsing text: String) throws(KernelConfigError) {
        self.init()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where line.hasPrefix("CONFIG_") {
            guard let separator = line.firstIndex(of: "=") else {
                throw KernelConfigError(line: number + 1, reason: "'\(line)' has no '='")
            }
            let value = line[line.index(after: separator)...]
            guard !value.isEmpty else { throw KernelConfigError(line: number + 1, reason: "'\(line)' has no value") }
            options[String(line[..<separator])] = String(value)
        }
    }

    /// `KERNEL_VERSION(major, minor, patch)` of `uname -r` (libbpf's `get_kernel_version`); 0
    /// when the release does not start with three numbers.
    public static var runningKernelVersion: UInt32 {
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return kernelVersion(release: release)
    }

    /// `KERNEL_VERSION` of a release string such as `6.8.0-45-generic`.
    public static func kernelVersion(release: String) -> UInt32 {
        var numbers: [UInt32] = []
        var current: UInt32?
        for character in release.utf8 {
            if character >= 0x30 && character <= 0x39 {
                let (product, overflow) = (current ?? 0).multipliedReportingOverflow(by: 10)
                current = overflow ? UInt32.max : product &+ UInt32(character - 0x30)
            } else {
                guard let value = current else { break }
                numbers.append(value)
                current = nil
                if numbers.count == 3 || character != UInt8(ascii: ".") { break }
            }
        }
        if let current, numbers.count < 3 { numbers.append(current) }
        guard numbers.count == 3 else { return 0 }
        return min(numbers[0], 255) << 16 | min(numbers[1], 255) << 8 | min(numbers[2], 255)
    }

    /// The bytes of extern `extern` (a `__kconfig` one of type `type`), or nil when this
    /// configuration has no value for it.
    func value(of extern: ExternDeclaration, type: KernelConfigType) throws(ObjectError) -> [UInt8]? {
        func invalid(_ reason: String) -> ObjectError { .extern(name: extern.name, reason: reason) }
        if extern.name.hasPrefix("LINUX_") {
            let value: UInt64
            switch extern.name {
            case "LINUX_KERNEL_VERSION": value = UInt64(kernelVersion)
            case "LINUX_HAS_SYSCALL_WRAPPER": value = hasSyscallWrapper ? 1 : 0
            case "LINUX_HAS_BPF_COOKIE": value = hasBPFCookie ? 1 : 0
            default:
                // libbpf computes only these; another LINUX_ extern is 0 when weak, else refused.
                if extern.isWeak { return nil }
                throw invalid("not one of the values libbpf computes itself (LINUX_KERNEL_VERSION,"
                    + " LINUX_HAS_SYSCALL_WRAPPER, LINUX_HAS_BPF_COOKIE)")
            }
            return try number(value, for: extern, type: type)
        }
        guard extern.name.hasPrefix("CONFIG_") else {
            throw invalid("a __kconfig extern must be named CONFIG_* or LINUX_*")
        }
        guard let text = options[extern.name] else { return nil }
        switch text.first {
        case "y", "n", "m":
            let letter = text.utf8.first!
            switch type {
            case .bool:
                guard letter != UInt8(ascii: "m") else { throw invalid("value 'm' implies tristate or char type") }
                return [letter == UInt8(ascii: "y") ? 1 : 0]
            case .tristate:
                let value: UInt8 = letter == UInt8(ascii: "y") ? 1 : letter == UInt8(ascii: "m") ? 2 : 0
                return [value] + [UInt8](repeating: 0, count: extern.size - 1)
            case .char:
                return [letter]
            case .integer, .characterArray:
                throw invalid("value '\(Character(UnicodeScalar(letter)))' implies bool, tristate, or char type")
            }
        case "\"":
            guard case .characterArray(let count) = type else { throw invalid("value \(text) implies char array type") }
            guard text.count >= 2, text.last == "\"" else { throw invalid("invalid string config \(text)") }
            let characters = Array(text.utf8.dropFirst().dropLast()).prefix(count - 1)
            return Array(characters) + [UInt8](repeating: 0, count: count - characters.count)
        default:
            guard let value = Self.parseNumber(text) else { throw invalid("value '\(text)' isn't a valid integer") }
            switch type {
            case .integer, .char: return try number(value, for: extern, type: type)
            default: throw invalid("value '\(text)' implies integer type")
            }
        }
    }

    /// libbpf's `set_kcfg_value_num`: the little-endian bytes of `value` in the extern's size.
    private func number(_ value: UInt64, for extern: ExternDeclaration, type: KernelConfigType) throws(ObjectError)
        -> [UInt8]
    {
        func invalid(_ reason: String) -> ObjectError { .extern(name: extern.name, reason: reason) }
        switch type {
        case .bool:
            guard value <= 1 else { throw invalid("value \(value) isn't boolean compatible") }
        case .integer(let size, let isSigned) where size < 8:
            let bits = UInt64(size * 8)
            let fits = isSigned ? value &+ (1 << (bits - 1)) < 1 << bits : value >> bits == 0
            guard fits else { throw invalid("value \(value) doesn't fit in \(size) bytes") }
        case .integer, .char:
            break
        case .tristate, .characterArray:
            throw invalid("value \(value) implies integer, char, or boolean type")
        }
        return withUnsafeBytes(of: value.littleEndian) { Array($0.prefix(extern.size)) }
    }

    /// `strtoull(text, &end, 0)` that must consume everything: decimal, `0x` hex or `0` octal.
    static func parseNumber(_ text: String) -> UInt64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
        if text.hasPrefix("0") && text.count > 1 { return UInt64(text.dropFirst(), radix: 8) }
        return UInt64(text)
    }
}

/// A line of a kernel configuration that cannot be read.
public struct KernelConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "kernel configuration, line \(line): \(reason)" }
}

extension Object {
    /// The bytes of the `.kconfig` map: each `__kconfig` extern's value from `config`, 0 for a
    /// weak one without a value. Throws for a strong one without a value, and for a value that
    /// does not suit the extern's type.
    public func kernelConfigValues(_ config: KernelConfig) throws(ObjectError) -> [UInt8] {
        guard let section = globalData.first(where: { $0.sectionIndex == GlobalDataSection.noSection }) else {
            return []
        }
        var bytes = section.initialBytes
        for extern in externs {
            guard case .kernelConfig(let type) = extern.kind else { continue }
            guard let value = try config.value(of: extern, type: type) else {
                if extern.isWeak { continue }
                throw .extern(name: extern.name, reason: "strong __kconfig extern has no value: the kernel"
                    + " configuration given does not set it (declare it __weak to read 0 instead)")
            }
            bytes.replaceSubrange(extern.offset..<(extern.offset + value.count), with: value)
        }
        return bytes
    }
}
