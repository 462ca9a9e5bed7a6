import ArgumentParser
import BPFVM
import Conformance
import JIT
import Verifier

/// `bpfrun run`: run a program in the interpreter or as JIT-compiled code and print r0, its
/// printk output, the maps it changed and the run time (with `--repeat`, the time per run).
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a BPF program (object file, raw instructions or assembly) in the interpreter or JIT-compiled.",
        discussion: """
            For an object file, the program is linked with its maps and the standard helpers; its context \
            (r1) is the memory given: --ctx-args fills u64 argument slots (for fentry/fexit/fmod_ret/lsm \
            programs the slot after the arguments is the return value), --mem/--mem-file give raw bytes. \
            r2 holds the context's length. For raw instructions or assembly, r1 and r2 are the memory and \
            its length and helper 5 is the conformance suite's unwind helper. The program is verified first \
            (for the context given) and runs unchecked once proven safe; a program the verifier rejects does \
            not run, unless --checked runs it in checked mode (every access checked, no verification).
            """)

    @Argument(help: "The program: a BPF object file, a raw file of 8-byte slots, or bpf_conformance assembly text.")
    var file: String

    @Option(help: "The program of the object to run (may be left out when the object has one).")
    var prog: String?

    @Option(help: "Context memory as hex bytes, e.g. \"01 02 ff\".")
    var mem: String?

    @Option(help: "Read the context memory from this file.")
    var memFile: String?

    @Option(help: "Context as comma-separated u64 argument slots (decimal, 0x hex, or negative), e.g. 3,0x10,-1.")
    var ctxArgs: String?

    @OptionGroup var loading: ObjectLoading

    @Flag(help: "Run without verifying, in checked mode: every memory access, register read and helper argument is checked and an instruction budget stops runaway loops.")
    var checked = false

    @Option(help: "The host BTF (an object file or raw BTF) that defines the hooks fentry/fexit/fmod_ret/lsm programs attach to (for verifying them).")
    var hostBTF: String?

    /// The execution engine.
    enum Engine: String, EnumerableFlag {
        case interp, jit

        static func help(for value: Engine) -> ArgumentHelp? {
            switch value {
            case .interp: "Run the verified program in the interpreter."
            case .jit: "Compile the verified program to x86-64 machine code and run that (the default; --checked runs in the interpreter)."
            }
        }
    }

    @Flag var chosenEngine: Engine?

    /// The JIT, unless the interpreter is asked for (or needed: checked mode).
    private var engine: Engine { chosenEngine ?? (checked ? .interp : .jit) }

    @Option(name: .customLong("repeat"), help: "Run the program N more times after the first run and print the time per run (ns/run), the fastest of five rounds.")
    var repetitions: Int?

    func validate() throws {
        if [mem, memFile, ctxArgs].compactMap({ $0 }).count > 1 {
            throw ValidationError("give at most one of --mem, --mem-file and --ctx-args")
        }
        if checked && chosenEngine == .jit {
            throw ValidationError("--checked runs unverified programs in the interpreter; the JIT compiles only verified programs")
        }
        if let repetitions, repetitions < 1 { throw ValidationError("--repeat takes a count of at least 1") }
    }

    func run() throws {
        let bytes = try InputFiles.bytes(at: file)
        var memory = try contextBytes()
        if ELFSectionTable.isELF(bytes) {
            try runObject(memory: memory)
            return
        }
        if prog != nil { throw CommandError("--prog applies to object files; \(file) is not one") }
        let program = try InputFiles.program(at: file)
        let interpreter: Interpreter
        do {
            interpreter = try Interpreter(program: program, helpers: ConformanceRunner.helpers)
        } catch {
            throw CommandError("\(file): \(error)")
        }
        var compiled: CompiledProgram?
        if !checked {
            let environment = VerificationEnvironment(context: .memory(size: memory.count, lengthInR2: true),
                                                      helpers: ConformanceRunner.helpers)
            let verified: VerifiedProgram
            do { verified = try Verifier().verify(program, in: environment) } catch {
                throw CommandError("\(file): the verifier rejects the program: \(error) (--checked runs it in checked mode)")
            }
            if engine == .jit {
                do { compiled = try JITCompiler().compile(verified) } catch {
                    throw CommandError("\(file): the JIT cannot compile the program: \(error)")
                }
            }
        }
        let checked = self.checked
        let runOnce = { () throws(ExecutionError) -> UInt64 in
            let outcome = memory.withUnsafeMutableBytes { buffer in
                Result { () throws(ExecutionError) -> UInt64 in
                    let input = buffer.count == 0 ? nil : buffer
                    if let compiled { return try compiled.run(memory: input) }
                    return checked ? try interpreter.run(memory: input) : try interpreter.runTrusted(memory: input)
                }
            }
            return try outcome.get()
        }
        let (result, elapsed) = Self.timed(runOnce)
        let r0 = try result.get(file: file)
        print("r0 = \(r0) (0x\(String(r0, radix: 16)))")
        print("time: \(Self.format(elapsed))")
        try reportRepeated { () throws(ExecutionError) in _ = try runOnce() }
    }

    /// With `--repeat N`: runs `body` N times in each of five rounds and prints the fastest
    /// round's time per run (the first run, made before, was the warm-up).
    private func reportRepeated<E: Error>(_ body: () throws(E) -> Void) throws {
        guard let repetitions else { return }
        var fastest = Duration.seconds(Int64.max)
        for _ in 0..<5 {
            var failure: E?
            let elapsed = ContinuousClock().measure {
                for _ in 0..<repetitions {
                    do throws(E) { try body() } catch { failure = error; return }
                }
            }
            if let failure { throw CommandError("\(file): a repeated run failed: \(failure)") }
            fastest = min(fastest, elapsed)
        }
        let (seconds, attoseconds) = fastest.components
        let nanoseconds = (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(repetitions)
        print("ns/run: \(Double(Int((nanoseconds * 10).rounded())) / 10)")
    }

    private func contextBytes() throws -> [UInt8] {
        if let mem { return try InputFiles.hexBytes(mem) }
        if let memFile { return try InputFiles.bytes(at: memFile) }
        if let ctxArgs {
            var bytes: [UInt8] = []
            for field in ctxArgs.split(separator: ",", omittingEmptySubsequences: false) {
                let text = field.trimmingCharacters(in: " ")
                let value: UInt64?
                if text.hasPrefix("0x") { value = UInt64(text.dropFirst(2), radix: 16) }
                else if text.hasPrefix("-") { value = Int64(text).map { UInt64(bitPattern: $0) } }
                else { value = UInt64(text) }
                guard let value else { throw CommandError("--ctx-args: '\(text)' is not a 64-bit number") }
                bytes += withUnsafeBytes(of: value.littleEndian, Array.init)
            }
            return bytes
        }
        return []
    }

    private func runObject(memory: [UInt8]) throws {
        let object = try InputFiles.object(at: file)
        let name = try ProgramChoice.name(prog, in: object, file: file)
        let host = try hostBTF.map { try InputFiles.btf(at: $0).btf }
        let loaded = try loading.load(object, programs: [name], file: file)
        let program: LoadedProgram
        do { program = try loaded.program(named: name) } catch { throw CommandError("\(file): \(error)") }
        var verified: VerifiedProgram? = nil
        var compiled: CompiledProgram? = nil
        if !checked {
            do {
                verified = try program.verify(contextSize: memory.count, hostBTF: host)
            } catch {
                throw CommandError("\(file): the verifier rejects '\(name)': \(error) (--checked runs it in checked mode)")
            }
            // Its tail calls may go on unchecked only into programs verified for the same context.
            let group = [(verified: verified!, loaded: program)]
                + Self.verifiedSiblings(of: program, in: loaded, contextSize: memory.count, hostBTF: host)
            if engine == .jit {
                do { compiled = try JITCompiler().compile(group)[0] } catch {
                    throw CommandError("\(file): the JIT cannot compile '\(program.name)': \(error)")
                }
            }
        }
        let before = MapSnapshot(loaded)
        // Each kind gets the context a kernel test run gives it: an xdp_md over the packet for
        // xdp, the memory itself otherwise.
        let runOnce = { () throws(TestRunError) -> UInt64 in
            if let compiled { return try compiled.testRun(input: memory).result }
            if let verified { return try verified.testRun(input: memory).result }
            return try program.testRun(input: memory).result
        }
        let (result, elapsed) = Self.timed(runOnce)
        let r0: UInt64
        switch result {
        case .success(let value): r0 = value
        case .failure(let error): throw CommandError("\(file): \(error)")
        }
        // Hook programs return an int: what counts is w0 read as a signed 32-bit value.
        let asInt = program.kind.hook != nil ? ", as int: \(Int32(truncatingIfNeeded: r0))" : ""
        print("r0 = \(Int64(bitPattern: r0)) (0x\(String(r0, radix: 16))\(asInt))")
        let trace = loaded.context.trace.drain()
        if !trace.isEmpty {
            print("printk:")
            for line in trace { print("  \(line)") }
        }
        let changes = MapSnapshot(loaded).changes(since: before)
        if !changes.isEmpty {
            print("maps changed:")
            for line in changes { print("  \(line)") }
        }
        for map in loaded.maps {
            for line in Self.records(of: map) { print(line) }
        }
        print("time: \(Self.format(elapsed))")
        try reportRepeated { () throws(TestRunError) in _ = try runOnce() }
    }

    /// The other programs of `program`'s object that verify with the same context size and host
    /// BTF (those its tail calls may reach: the object loaded only what the program references).
    private static func verifiedSiblings(of program: LoadedProgram, in object: LoadedObject, contextSize: Int,
                                         hostBTF: BTF?) -> [(verified: VerifiedProgram, loaded: LoadedProgram)]
    {
        object.programs.filter { $0 !== program }.compactMap { sibling in
            (try? sibling.verify(contextSize: contextSize, hostBTF: hostBTF)).map { ($0, sibling) }
        }
    }

    /// What a run left in `map` for the host to read: ring buffer and perf event records (in hex,
    /// as libbpf's consumers receive them), and the stacks of a stack trace map with their frames
    /// named where the dynamic linker can name them.
    static func records(of map: Map) -> [String] {
        let name = map.definition.name
        var lines: [String] = []
        func hex(_ bytes: UnsafeRawBufferPointer) -> String { bytes.map { Dump.hex($0) }.joined(separator: " ") }
        switch map.definition.type {
        case .ringBuffer:
            map.consume { lines.append("  \(hex($0))") }
            if !lines.isEmpty { lines.insert("ring buffer \(name):", at: 0) }
        case .perfEventArray:
            map.consumePerfEvents { event in
                switch event {
                case .sample(let slot, let data): lines.append("  [buffer \(slot)] \(hex(data))")
                case .lost(let slot, let count): lines.append("  [buffer \(slot)] lost \(count) records")
                }
            }
            if !lines.isEmpty { lines.insert("perf event array \(name):", at: 0) }
        case .stackTrace:
            for key in map.keys {
                let id = key.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
                guard let frames = map.stackTrace(id: Int(id)) else { continue }
                lines.append("  stack id \(id), \(frames.count) frames:")
                for (depth, frame) in frames.enumerated() {
                    lines.append("    #\(depth) 0x\(String(frame, radix: 16)) \(Symbolizer.describe(frame))")
                }
            }
            if !lines.isEmpty { lines.insert("stack traces \(name):", at: 0) }
        default:
            break
        }
        return lines
    }

    /// Runs `body` and measures it.
    static func timed<E: Error>(_ body: () throws(E) -> UInt64) -> (Result<UInt64, E>, Duration) {
        var result: Result<UInt64, E> = .success(0)
        let elapsed = ContinuousClock().measure { result = Result { () throws(E) -> UInt64 in try body() } }
        return (result, elapsed)
    }

    /// A duration as ns, µs or ms with one decimal.
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        func rounded(_ value: Double) -> String {
            let text = String(Double(Int((value * 10).rounded())) / 10)
            return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        }
        if nanoseconds < 1e3 { return "\(rounded(nanoseconds)) ns" }
        if nanoseconds < 1e6 { return "\(rounded(nanoseconds / 1e3)) µs" }
        return "\(rounded(nanoseconds / 1e6)) ms"
    }
}

extension Result where Success == UInt64, Failure == ExecutionError {
    /// The value, or a command error naming the file and the trap.
    func get(file: String) throws -> UInt64 {
        switch self {
        case .success(let value): return value
        case .failure(let error): throw CommandError("\(file): trap at \(error)")
        }
    }
}

extension Substring {
    func trimmingCharacters(in character: Character) -> String {
        String(drop(while: { $0 == character }).reversed().drop(while: { $0 == character }).reversed())
    }
}

/// The entries of an object's key/value maps at one moment, to report what a run changed.
struct MapSnapshot {
    var entries: [String: [[UInt8]: [UInt8]]] = [:]

    init(_ object: LoadedObject) {
        for map in object.maps {
            switch map.definition.type {
            case .hash, .array, .lruHash, .perThreadHash, .perThreadArray:
                var values: [[UInt8]: [UInt8]] = [:]
                for key in map.keys { values[key] = map.lookup(key) }
                entries[map.definition.name] = values
            default:
                continue
            }
        }
    }

    /// One line per changed entry: `map: key K → V` (or `deleted`).
    func changes(since before: MapSnapshot) -> [String] {
        var lines: [String] = []
        for name in entries.keys.sorted() {
            let now = entries[name] ?? [:]
            let then = before.entries[name] ?? [:]
            for key in Set(now.keys).union(then.keys).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                guard now[key] != then[key] else { continue }
                let keyText = key.map { Dump.hex($0) }.joined(separator: " ")
                let valueText = now[key].map { $0.map { Dump.hex($0) }.joined(separator: " ") } ?? "deleted"
                lines.append("\(name): key \(keyText) → \(valueText)")
            }
        }
        return lines
    }
}
