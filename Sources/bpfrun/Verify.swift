import ArgumentParser
import BPFVM
import Conformance
import Verifier

/// `bpfrun verify`: the verifier's verdict on the programs of an object (or on raw code), with
/// the kernel-style log.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify BPF programs: exit 0 with a summary when every one is proven safe, 1 with the reason otherwise.",
        discussion: """
            Each program is verified for its kind (its section): xdp programs over an xdp_md and packet, \
            fentry/fexit/fmod_ret/lsm programs over the hook's argument slots typed by the host's BTF \
            (--host-btf), other test-run kinds over --ctx-size bytes of context memory. A rejection names \
            the instruction, its source line and the reason in the kernel's words. --log-level 1 prints the \
            path to a rejection, 2 every instruction with the registers it changed.
            """)

    @Argument(help: "A BPF object file, a raw file of 8-byte slots, or bpf_conformance assembly text.")
    var file: String

    @Option(help: "Verify only this program of the object.")
    var prog: String?

    @Option(help: "The log to print: 1 (the path to a rejection) or 2 (every instruction with register states).")
    var logLevel: Int = 0

    @Option(help: "The host BTF (an object file or raw BTF) that defines the hooks fentry/fexit/fmod_ret/lsm programs attach to.")
    var hostBTF: String?

    @Option(help: "The size of the context memory of test-run programs, in bytes.")
    var ctxSize: Int = 256

    @OptionGroup var loading: ObjectLoading

    func validate() throws {
        guard [0, 1, 2].contains(logLevel) else { throw ValidationError("--log-level must be 0, 1 or 2") }
        guard ctxSize >= 0 && ctxSize <= 1 << 20 else { throw ValidationError("--ctx-size must be 0...1048576") }
    }

    func run() throws {
        let bytes = try InputFiles.bytes(at: file)
        let options = VerifierOptions(logLevel: logLevel)
        guard ELFSectionTable.isELF(bytes) else {
            if prog != nil { throw CommandError("--prog applies to object files; \(file) is not one") }
            let program = try InputFiles.program(at: file)
            let environment = VerificationEnvironment(context: .memory(size: ctxSize, lengthInR2: true),
                                                      helpers: ConformanceRunner.helpers)
            let verdict = Result { () throws(VerifierError) in try Verifier(options: options).verify(program, in: environment) }
            if try !report(name: file, verdict) { throw ExitCode.failure }
            return
        }
        let object = try InputFiles.object(at: file)
        let names = try prog.map { [try ProgramChoice.name($0, in: object, file: file)] } ?? object.programs.map(\.name)
        let hostBTF = try hostBTF.map { try InputFiles.btf(at: $0).btf }
        let loaded = try loading.load(object, programs: names, file: file)
        var accepted = true
        for name in names {
            let program: LoadedProgram
            do { program = try loaded.program(named: name) } catch { throw CommandError("\(file): \(error)") }
            let verdict = Result { () throws(VerifierError) in
                try program.verify(contextSize: ctxSize, hostBTF: hostBTF, options: options)
            }
            accepted = try report(name: name, verdict) && accepted
        }
        if !accepted { throw ExitCode.failure }
    }

    /// Prints the log and the verdict of one program; returns whether it was accepted.
    private func report(name: String, _ verdict: Result<VerifiedProgram, VerifierError>) throws -> Bool {
        switch verdict {
        case .success(let verified):
            if logLevel > 0 { print(verified.log, terminator: "") }
            let statistics = verified.statistics
            print("\(name): accepted (\(statistics.processedInstructions) instructions processed, \(statistics.totalStates) states, stack \(statistics.stackDepths.map(String.init).joined(separator: "+")) bytes, \(statistics.microseconds) µs)")
            return true
        case .failure(let error):
            if logLevel > 0 { print(error.log, terminator: "") }
            print("\(name): rejected: \(error)")
            return false
        }
    }
}
