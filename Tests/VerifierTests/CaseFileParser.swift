import BPFVM
import Foundation

/// Parses one `.cases` file: `=== NAME` headers, `key: value` fields, indented program lines,
/// `#` comment lines.
struct CaseFileParser {
    let file: String

    /// The fields of a case being read.
    private struct Draft {
        let name: String
        let line: Int
        var fields: [String: [(value: String, line: Int)]] = [:]
        var code: [String] = []
    }

    func parse(_ text: String) throws(CaseFileError) -> [VerifierCase] {
        var cases: [VerifierCase] = []
        var draft: Draft?
        var names: Set<String> = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine)
            let number = offset + 1
            if line.hasPrefix("=== ") {
                if let done = draft { cases.append(try finish(done)) }
                let name = line.dropFirst(4).trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw error(number, "a case name is letters, digits and underscores, found '\(name)'")
                }
                guard names.insert(name).inserted else { throw error(number, "a second case named '\(name)'") }
                draft = Draft(name: name, line: number)
            } else if line.hasPrefix("#") || line.allSatisfy(\.isWhitespace) {
                continue
            } else if draft == nil {
                throw error(number, "text before the first `=== NAME` header")
            } else if line.first == " " || line.first == "\t" {
                draft?.code.append(line)
            } else {
                guard let colon = line.firstIndex(of: ":") else {
                    throw error(number, "expected `key: value` or an indented program line, found '\(line)'")
                }
                let key = String(line[..<colon])
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                draft?.fields[key, default: []].append((value, number))
            }
        }
        if let done = draft { cases.append(try finish(done)) }
        return cases
    }

    private func finish(_ draft: Draft) throws(CaseFileError) -> VerifierCase {
        let known: Set<String> = ["kind", "map", "expect", "kernel", "note", "pending"]
        for (key, values) in draft.fields where !known.contains(key) {
            throw error(values[0].line, "unknown field '\(key)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        func single(_ key: String) throws(CaseFileError) -> (value: String, line: Int) {
            guard let values = draft.fields[key], values.count == 1 else {
                throw error(draft.line, "case '\(draft.name)' needs exactly one `\(key):` line")
            }
            return values[0]
        }
        guard !draft.code.isEmpty else { throw error(draft.line, "case '\(draft.name)' has no program") }
        var maps: [MapDefinition] = []
        for map in draft.fields["map"] ?? [] { maps.append(try parseMap(map.value, line: map.line)) }
        let kind = try single("kind")
        let expect = try single("expect")
        let kernel = try single("kernel")
        let pending = draft.fields["pending"]?.first?.value
        return VerifierCase(
            file: file, line: draft.line, name: draft.name, kind: try parseKind(kind.value, line: kind.line),
            maps: maps, source: draft.code.joined(separator: "\n") + "\n",
            expectation: try parseExpectation(expect.value, line: expect.line),
            kernel: try parseKernelNote(kernel.value, line: kernel.line), pending: pending)
    }

    /// `socket 64`, `xdp`, `fentry HOOK` (fexit, fmod_ret, lsm).
    private func parseKind(_ text: String, line: Int) throws(CaseFileError) -> CaseKind {
        let words = text.split(separator: " ").map(String.init)
        switch words.first {
        case "xdp"? where words.count == 1:
            return .xdp
        case let prefix? where ["fentry", "fexit", "fmod_ret", "lsm"].contains(prefix):
            guard words.count == 2, let kind = ProgramKind(section: "\(prefix)/\(words[1])") else {
                throw error(line, "expected `kind: \(prefix) HOOK`, found '\(text)'")
            }
            return .hook(kind)
        case let type?:
            guard words.count == 2, let size = Int(words[1]), size > 0,
                  ProgramKind(section: type) == .testRun(type: type)
            else { throw error(line, "expected `kind: TYPE SIZE` (a test-run type and a context size), `xdp` or `HOOKKIND HOOK`, found '\(text)'") }
            return .memory(type: type, size: size)
        case nil:
            throw error(line, "empty kind")
        }
    }

    /// `NAME TYPE key=K value=V entries=N` (key and value default to 0).
    private func parseMap(_ text: String, line: Int) throws(CaseFileError) -> MapDefinition {
        let words = text.split(separator: " ").map(String.init)
        guard words.count >= 3, let type = MapType.allCases.first(where: { $0.name == words[1] }) else {
            throw error(line, "expected `map: NAME TYPE key=K value=V entries=N` with a type of \(MapType.allCases.map(\.name)), found '\(text)'")
        }
        var sizes: [String: Int] = [:]
        for word in words.dropFirst(2) {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, ["key", "value", "entries"].contains(parts[0]), let number = Int(parts[1]) else {
                throw error(line, "expected key=K, value=V or entries=N, found '\(word)'")
            }
            sizes[parts[0]] = number
        }
        guard let entries = sizes["entries"] else { throw error(line, "map '\(words[0])' needs entries=N") }
        return MapDefinition(name: words[0], type: type, keySize: sizes["key"] ?? 0, valueSize: sizes["value"] ?? 0,
                             maxEntries: entries)
    }

    private func parseExpectation(_ text: String, line: Int) throws(CaseFileError) -> Expectation {
        guard let expectation = Expectation(parsing: text) else {
            throw error(line, "expected `expect: accept` or `expect: reject MESSAGE`, found '\(text)'")
        }
        return expectation
    }

    /// `agrees`, `accepts; WHY`, `rejects "MESSAGE"[; WHY]`, `n/a; WHY`.
    private func parseKernelNote(_ text: String, line: Int) throws(CaseFileError) -> KernelNote {
        if text == "agrees" { return .agrees }
        func reason(after prefix: String) -> String? {
            guard text.hasPrefix(prefix) else { return nil }
            let why = text.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
            return why.isEmpty ? nil : why
        }
        if let why = reason(after: "accepts;") { return .accepts(why: why) }
        if let why = reason(after: "n/a;") { return .notApplicable(why: why) }
        if text.hasPrefix("rejects \""), let close = text.dropFirst(9).firstIndex(of: "\"") {
            let message = String(text[text.index(text.startIndex, offsetBy: 9)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return .rejects(message: message, why: nil) }
            if rest.hasPrefix(";"), !rest.dropFirst().trimmingCharacters(in: .whitespaces).isEmpty {
                return .rejects(message: message, why: rest.dropFirst().trimmingCharacters(in: .whitespaces))
            }
        }
        throw error(line, "expected `kernel: agrees`, `accepts; WHY`, `rejects \"MESSAGE\"[; WHY]` or `n/a; WHY`, found '\(text)'")
    }

    private func error(_ line: Int, _ reason: String) -> CaseFileError {
        CaseFileError(file: file, line: line, reason: reason)
    }
}
