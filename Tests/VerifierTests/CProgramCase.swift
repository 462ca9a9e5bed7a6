import BPFVM
import Foundation
import Testing

/// One program of a C file under `Programs/`, with the verdict a `// expect NAME: accept` or
/// `// expect NAME: reject MESSAGE` comment of that file gives it.
struct CProgramCase: Sendable, CustomTestStringConvertible {
    let source: URL
    let program: String
    let expectation: Expectation

    var testDescription: String { "\(source.lastPathComponent) \(program)" }

    /// The expectations of every `Programs/*.c`, and the lines that could not be read.
    static let all: (cases: [CProgramCase], errors: [CaseFileError]) = {
        var cases: [CProgramCase] = []
        var errors: [CaseFileError] = []
        let directory = CompiledPrograms.programsDirectory
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".c") }.sorted()
        for name in names {
            let source = directory.appendingPathComponent(name)
            guard let text = try? String(contentsOf: source, encoding: .utf8) else {
                errors.append(CaseFileError(file: name, line: 0, reason: "cannot read"))
                continue
            }
            var found = 0
            for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.hasPrefix("// expect ") {
                let body = line.dropFirst("// expect ".count)
                guard let colon = body.firstIndex(of: ":") else {
                    errors.append(CaseFileError(file: name, line: offset + 1, reason: "expected `// expect NAME: VERDICT`"))
                    continue
                }
                let verdict = body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                guard let expectation = Expectation(parsing: verdict) else {
                    errors.append(CaseFileError(file: name, line: offset + 1, reason: "expected accept or reject MESSAGE, found '\(verdict)'"))
                    continue
                }
                cases.append(CProgramCase(source: source, program: String(body[..<colon]), expectation: expectation))
                found += 1
            }
            if found == 0 { errors.append(CaseFileError(file: name, line: 0, reason: "no `// expect NAME: VERDICT` line")) }
        }
        return (cases, errors)
    }()
}
