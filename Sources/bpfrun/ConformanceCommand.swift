#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Conformance

/// `bpfrun conformance`: run every `.data` file of a bpf_conformance test folder.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Run the bpf_conformance tests in a folder; exits non-zero if any fails.",
        discussion: "Ends with the line `N passed, N failed`.")

    @Argument(help: "A folder of bpf_conformance .data files.")
    var directory: String

    @Option(help: "Modes to run: checked, trusted, both (the interpreter's two), jit, or all (all three must agree). Unchecked modes run only after a checked run without a trap.")
    var mode: ModeSelection = .both

    @Flag(help: "Print passing tests too.")
    var verbose = false

    enum ModeSelection: String, ExpressibleByArgument, CaseIterable {
        case checked, trusted, both, jit, all
    }

    func run() throws {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw CommandError("\(directory) is not a folder")
        }
        let names = entries
            .filter { $0.hasSuffix(".data") }
            .sorted()
        let modes: [ConformanceRunner.Mode] = switch mode {
        case .checked: [.checked]
        case .trusted: [.trusted]
        case .both: [.checked, .trusted]
        case .jit: [.jit]
        case .all: [.checked, .trusted, .jit]
        }
        let runner = ConformanceRunner(modes: modes)
        var passed = 0
        var failed = 0
        for name in names {
            let path = directory + "/" + name
            let verdict: ConformanceRunner.Verdict
            let bytes = try InputFiles.bytes(at: path)
            if let text = String(validating: bytes, as: UTF8.self) {
                do {
                    verdict = runner.run(try ConformanceTest(name: name, text: text))
                } catch {
                    verdict = .failed(reason: "malformed test file: \(error)")
                }
            } else {
                verdict = .failed(reason: "not UTF-8 text")
            }
            switch verdict {
            case .passed:
                passed += 1
                if verbose { print("PASS \(name)") }
            case .failed(let reason):
                failed += 1
                print("FAIL \(name): \(reason)")
            }
        }
        print("\(passed) passed, \(failed) failed")
        if names.isEmpty { throw CommandError("\(directory) holds no .data files") }
        if failed > 0 { throw ExitCode.failure }
    }
}
