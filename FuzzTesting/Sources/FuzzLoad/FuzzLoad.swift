import BPFVM
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

/// Takes the input as a BPF ELF object and goes all the way: `Object` (ELF, BTF, maps, programs),
/// `LoadedObject` (map creation), `load()` (linking, CO-RE against the object's own BTF, binding every
/// program), a read of every global variable, then one checked run of every program over a zeroed context with
/// a small instruction budget.
/// Errors are expected; crashes, sanitizer reports, hangs and running out of memory are bugs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let object: Object
    let loaded: LoadedObject
    do {
        object = try Object(bytes: bytes, name: "fuzz")
        loaded = try LoadedObject(object)
        try loaded.load(targetBTF: object.btf)
    } catch {
        BoundedRun.report("\(error)")
        return 0
    }
    precondition(loaded.programs.count == object.programs.count, "load() left programs out")
    // The host's view of global data: reading a variable must stay inside its section's map value.
    for section in object.globalData {
        for variable in section.variables { _ = loaded.global(variable.name) }
    }
    var results: [String] = []
    for program in loaded.programs { results.append("\(program.name): \(BoundedRun.run(program, of: loaded))") }
    BoundedRun.report("loaded; " + (results.isEmpty ? "no programs" : results.joined(separator: "; ")))
    return 0
}

/// One bounded checked-mode run of a loaded program.
enum BoundedRun {
    /// The instruction budget of each run (`bpf_loop` callbacks run inside it and share it).
    static let budget = 10_000
    /// The size of the zeroed context buffer r1 points to (r2 holds the size).
    static let contextSize = 256
    /// Runs `program` once; returns r0 or the trap, for ``report(_:)``.
    static func run(_ program: LoadedProgram, of object: LoadedObject) -> String {
        var interpreter = program.interpreter
        interpreter.instructionBudget = budget
        var memory = [UInt8](repeating: 0, count: contextSize)
        return memory.withUnsafeMutableBytes { buffer in
            let arguments = [UInt64(UInt(bitPattern: buffer.baseAddress)), UInt64(buffer.count)]
            do {
                let r0 = try interpreter.run(arguments: arguments, regions: [MemoryRegion(buffer)],
                                             context: object.context)
                return "r0 = \(r0)"
            } catch {
                return "trap: \(error)"
            }
        }
    }

    /// With `FUZZ_LOAD_VERBOSE` set (e.g. `FUZZ_LOAD_VERBOSE=1 FuzzLoad -runs=0 Corpus/Load`), how far each
    /// input got: the error that stopped it, or each program's result.
    static let verbose = getenv("FUZZ_LOAD_VERBOSE") != nil

    static func report(_ line: @autoclosure () -> String) {
        if verbose { print(line()) }
    }
}

/// The entry SwiftPM's linker flags point `main` at; see ``runLibFuzzer(argc:argv:callback:)``.
@_cdecl("FuzzLoad_main")
func fuzzLoadMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv, callback: fuzz)
}
