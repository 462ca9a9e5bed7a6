import BPFVM
import Foundation
import Testing

/// One case of the verifier's corpus (`Cases/*.cases`): a program in bpf_conformance assembly,
/// what it is verified against, and the verdict it must get. The format is described at the
/// top of `Cases/structure.cases`.
struct VerifierCase: Sendable, CustomTestStringConvertible {
    /// The case file's name and the line of the case's `===` header.
    let file: String
    let line: Int
    let name: String
    let kind: CaseKind
    /// The maps, in the order `lddw %rN, map_idx I` names them.
    let maps: [MapDefinition]
    /// The program, in bpf_conformance assembly.
    let source: String
    let expectation: Expectation
    /// What the running kernel's verifier says about the same program (checked by
    /// scripts/kernel-check-verifier-cases, not by these tests).
    let kernel: KernelNote
    /// Why the verifier does not give the expected verdict yet (a known gap, `pending: WHY`):
    /// the case runs as a known issue, and fails once the verdict is right.
    let pending: String?

    var testDescription: String { "\(file):\(line) \(name)" }
}

/// What a case's program runs as: its kind and the context r1 points to.
enum CaseKind: Hashable, Sendable {
    /// A test-run kind (`socket`, `tracepoint`, ...) over `size` bytes of raw memory.
    case memory(type: String, size: Int)
    /// `xdp`, with `struct xdp_md` and packet pointers.
    case xdp
    /// `fentry`, `fexit`, `fmod_ret` or `lsm` on a hook of progs/include/hooks.h.
    case hook(ProgramKind)

    /// The hook whose BTF prototype types the context, if any.
    var hook: String? {
        if case .hook(let kind) = self { return kind.hook }
        return nil
    }
}

/// The verdict a case expects.
enum Expectation: Hashable, Sendable, CustomStringConvertible {
    case accept
    /// Rejected with a message containing this text (any rejection when it is empty).
    case reject(String)

    /// `accept`, `reject` or `reject MESSAGE`, as case files and C comments write it.
    init?(parsing text: String) {
        if text == "accept" {
            self = .accept
        } else if text == "reject" {
            self = .reject("")
        } else if text.hasPrefix("reject ") {
            self = .reject(String(text.dropFirst("reject ".count)))
        } else {
            return nil
        }
    }

    var description: String {
        switch self {
        case .accept: "accept"
        case .reject(let message): message.isEmpty ? "reject" : "reject with '\(message)'"
        }
    }
}

/// What the kernel's verifier does with a case's program.
enum KernelNote: Hashable, Sendable {
    /// The same verdict (and for a rejection, the same message).
    case agrees
    /// The kernel accepts what we reject, for the documented reason given.
    case accepts(why: String)
    /// The kernel rejects, with the message given; the reason, if any, says how we differ (a
    /// note without one differs only in wording).
    case rejects(message: String, why: String?)
    /// The kernel cannot be asked here, for the reason given.
    case notApplicable(why: String)
}

/// Why a case file cannot be read, naming the file and line.
struct CaseFileError: Error, CustomStringConvertible {
    let file: String
    let line: Int
    let reason: String

    var description: String { "\(file):\(line): \(reason)" }
}

/// The verifier's corpus: every case of every `Cases/*.cases` file.
enum CaseCorpus {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Cases")

    /// The cases of all files, and what could not be parsed (an unreadable directory included).
    static let loaded: (cases: [VerifierCase], errors: [CaseFileError]) = {
        var cases: [VerifierCase] = []
        var errors: [CaseFileError] = []
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasSuffix(".cases") }.sorted()
        } catch {
            return ([], [CaseFileError(file: directory.path, line: 0, reason: "cannot list: \(error)")])
        }
        for name in names {
            do {
                let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
                cases += try CaseFileParser(file: name).parse(text)
            } catch let error as CaseFileError {
                errors.append(error)
            } catch {
                errors.append(CaseFileError(file: name, line: 0, reason: "cannot read: \(error)"))
            }
        }
        return (cases, errors)
    }()

    static var cases: [VerifierCase] { loaded.cases }
}
