import BPFVM

/// One test of the bpf_conformance `.data` format: a program (as assembly or raw slots), the input
/// memory, and what must happen: r0 equal to a value, or a failure whose message contains a text.
public struct ConformanceTest: Hashable, Sendable {
    /// The test's name (usually its file name).
    public let name: String
    /// The `-- asm` section, if any.
    public let assembly: String?
    /// The `-- raw` slots, if any; they take precedence over `assembly`, as in the suite.
    public let raw: [Instruction]?
    /// The `-- mem` bytes (empty when the section is absent).
    public let memory: [UInt8]
    /// What the test expects.
    public let expectation: Expectation?

    /// The outcome a test asks for.
    public enum Expectation: Hashable, Sendable {
        /// The program returns this 64-bit r0.
        case result(UInt64)
        /// Loading or running fails with a message containing this text.
        case error(String)
    }

    public init(name: String, assembly: String?, raw: [Instruction]?, memory: [UInt8], expectation: Expectation?) {
        self.name = name
        self.assembly = assembly
        self.raw = raw
        self.memory = memory
        self.expectation = expectation
    }

    /// Parses the text of a `.data` file. Sections start with a line `-- NAME`; lines starting
    /// with `#` are comments. `c` and `no register offset` sections are informational and ignored;
    /// any other unknown section, or a malformed `raw`, `mem` or `result`, is an error.
    public init(name: String, text: String) throws(ConformanceFileError) {
        var sections: [(name: String, line: Int, lines: [String])] = []
        var preamble = true
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
            let trimmed = line.trimmingWhitespace()
            if trimmed.hasPrefix("#") { continue }
            if trimmed.hasPrefix("--") {
                sections.append((String(trimmed.dropFirst(2)).trimmingWhitespace(), offset + 1, []))
                preamble = false
            } else if preamble {
                if !trimmed.isEmpty { throw ConformanceFileError(line: offset + 1, reason: .textOutsideSection) }
            } else {
                sections[sections.count - 1].lines.append(line)
            }
        }
        var assembly: String?
        var raw: [Instruction]?
        var memory: [UInt8] = []
        var expectation: Expectation?
        for section in sections {
            let body = section.lines.joined(separator: "\n")
            switch section.name {
            case "asm":
                assembly = body
            case "raw":
                raw = try Self.parseRaw(section.lines, firstLine: section.line + 1)
            case "mem":
                memory = try Self.parseBytes(section.lines, firstLine: section.line + 1)
            case "result":
                let text = body.trimmingWhitespace()
                guard let value = Self.parseInteger(text) else {
                    throw ConformanceFileError(line: section.line + 1, reason: .badResult(text))
                }
                expectation = .result(value)
            case "error":
                let text = body.trimmingWhitespace()
                if !text.isEmpty { expectation = .error(text) }
            case "c", "no register offset":
                continue
            default:
                throw ConformanceFileError(line: section.line, reason: .unknownSection(section.name))
            }
        }
        self.init(name: name, assembly: assembly, raw: raw, memory: memory, expectation: expectation)
    }

    private static func parseRaw(_ lines: [String], firstLine: Int) throws(ConformanceFileError) -> [Instruction] {
        var slots: [Instruction] = []
        for (offset, line) in lines.enumerated() {
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if tokens.isEmpty { continue }
            if tokens.count == 1, tokens[0].hasPrefix("0x"), let word = UInt64(tokens[0].dropFirst(2), radix: 16) {
                slots.append(Instruction(rawValue: word))
                continue
            }
            let bytes = try parseBytes([line], firstLine: firstLine + offset)
            guard let decoded = Instruction.slots(fromBytes: bytes) else {
                throw ConformanceFileError(line: firstLine + offset, reason: .badRawLine(line))
            }
            slots += decoded
        }
        return slots
    }

    private static func parseBytes(_ lines: [String], firstLine: Int) throws(ConformanceFileError) -> [UInt8] {
        var bytes: [UInt8] = []
        for (offset, line) in lines.enumerated() {
            for token in line.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                guard token.count <= 2, let byte = UInt8(token, radix: 16) else {
                    throw ConformanceFileError(line: firstLine + offset, reason: .badByte(String(token)))
                }
                bytes.append(byte)
            }
        }
        return bytes
    }

    /// A 64-bit value written as `0x` hex or decimal (a leading `-` wraps to two's complement).
    static func parseInteger(_ text: String) -> UInt64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
        if text.hasPrefix("-"), let magnitude = UInt64(text.dropFirst()) { return 0 &- magnitude }
        return UInt64(text)
    }
}

/// A `.data` file that cannot be read as a test, with the line where the problem is.
public struct ConformanceFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let reason: Reason

    public enum Reason: Hashable, Sendable {
        case textOutsideSection
        case unknownSection(String)
        case badRawLine(String)
        case badByte(String)
        case badResult(String)
    }

    public var description: String {
        let text = switch reason {
        case .textOutsideSection: "text before the first `-- section` line"
        case .unknownSection(let name): "unknown section `-- \(name)`"
        case .badRawLine(let line): "raw line `\(line)` is neither one 0x word nor 8 hex bytes"
        case .badByte(let token): "`\(token)` is not a hex byte"
        case .badResult(let text): "result `\(text)` is not a 64-bit number (0x hex or decimal)"
        }
        return "line \(line): \(text)"
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
