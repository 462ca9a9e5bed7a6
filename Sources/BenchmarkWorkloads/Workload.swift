#if canImport(Glibc)
import Glibc
#endif
import BPFVM
import JIT
import BenchmarkPrograms
import Verifier

/// One benchmark program: its C source (Sources/BenchmarkPrograms, built natively into this
/// module and for BPF by progs/Makefile from the same file), the native function, and the BPF
/// program loaded, verified and JIT-compiled, with the input memory every engine runs over.
public final class Workload: @unchecked Sendable {
    public let name: String
    public let summary: String
    /// Whether every engine returns the same value (not so for the random-number loop).
    public let isDeterministic: Bool
    public let native: @convention(c) (UnsafeMutableRawPointer?) -> Int
    public let object: LoadedObject
    public let loaded: LoadedProgram
    public let verified: VerifiedProgram
    public let compiled: CompiledProgram
    /// The context memory (BENCH_CONTEXT_SIZE bytes of fixed pseudo-random data).
    public let context: UnsafeMutableRawBufferPointer

    /// The instruction slots of the BPF program.
    public var instructionCount: Int { loaded.linked.instructions.count }

    init(name: String, summary: String, deterministic: Bool = true,
         native: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Int, objects: String) throws(WorkloadError)
    {
        self.name = name
        self.summary = summary
        self.isDeterministic = deterministic
        self.native = native
        let path = objects + "/\(name).o"
        do {
            object = try LoadedObject(try Object(bytes: try Self.read(path), name: name))
            try object.load()
            loaded = try object.program(named: name)
            verified = try loaded.verify(contextSize: Workload.contextSize)
            compiled = try JITCompiler().compile(verified, loaded: loaded)
        } catch let error as WorkloadError {
            throw error
        } catch {
            throw WorkloadError(description: "\(path): \(error)")
        }
        context = .allocate(byteCount: Workload.contextSize, alignment: 16)
        var state: UInt64 = 0x1234_5678_9abc_def1
        for index in 0..<Workload.contextSize {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            context[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    deinit { context.deallocate() }

    public static let contextSize = Int(BENCH_CONTEXT_SIZE)

    /// The native build on the context.
    @inline(__always)
    public func runNative() -> UInt64 { UInt64(bitPattern: Int64(native(context.baseAddress))) }

    /// The JIT-compiled BPF build on the context (in place).
    @inline(__always)
    public func runJIT() throws -> UInt64 { try compiled.run(context: context) }

    /// The BPF build in the interpreter, trusted (it is verified), on the context (in place).
    @inline(__always)
    public func runInterpreter() throws -> UInt64 {
        try loaded.run(arguments: arguments, regions: [], checked: false)
    }

    /// The BPF build in the interpreter in checked mode, on the context (in place).
    @inline(__always)
    public func runChecked() throws -> UInt64 {
        try loaded.run(arguments: arguments, regions: [MemoryRegion(context)], checked: true)
    }

    /// r1 and r2 of a run: the context and its size.
    private var arguments: [UInt64] { [UInt64(UInt(bitPattern: context.baseAddress)), UInt64(context.count)] }

    /// A fresh compilation of the verified program (what the compile-time figure measures).
    public func compile() throws -> CompiledProgram { try JITCompiler().compile(verified, loaded: loaded) }

    /// Sets every value of the object's array maps to zero (between runs that must agree).
    public func resetMaps() throws {
        for map in object.maps where map.definition.type == .array {
            let zero = [UInt8](repeating: 0, count: map.definition.valueSize)
            for index in 0..<map.definition.maxEntries {
                try map.update(withUnsafeBytes(of: UInt32(index).littleEndian, Array.init), zero)
            }
        }
        native_histogram_reset()
    }

    /// The eight programs, their BPF builds read from the folder `objects` (progs/build/bench
    /// once `make -C progs` has run).
    public static func all(objects: String) throws(WorkloadError) -> [Workload] {
        [
            try Workload(name: "fnv1a", summary: "hashing: 64-bit FNV-1a over 512 bytes", native: native_fnv1a, objects: objects),
            try Workload(name: "crc32", summary: "CRC: bitwise CRC-32 over 128 bytes", native: native_crc32, objects: objects),
            try Workload(name: "sort", summary: "sorting: insertion sort of 32 words", native: native_sort, objects: objects),
            try Workload(name: "divide", summary: "integer math: 256 divisions and remainders", native: native_divide, objects: objects),
            try Workload(name: "bits", summary: "bit tricks: popcount, reversal, lowest bit of 128 words", native: native_bits, objects: objects),
            try Workload(name: "matrix", summary: "loops: an 8x8 matrix product", native: native_matrix, objects: objects),
            try Workload(name: "histogram", summary: "map-heavy: 256 array-map lookups and updates", native: native_histogram, objects: objects),
            try Workload(name: "random", summary: "helper calls: 256 bpf_get_prandom_u32", deterministic: false,
                         native: native_random, objects: objects),
        ]
    }

    /// The bytes of the file at `path`.
    private static func read(_ path: String) throws(WorkloadError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw WorkloadError(description: "\(path): cannot open it (\(String(cString: strerror(errno)))); run `make -C progs`")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        if ferror(file) != 0 { throw WorkloadError(description: "\(path): cannot read it") }
        return bytes
    }
}

/// Why a benchmark program could not be prepared: its object is missing or unreadable, or it
/// does not load, verify or compile.
public struct WorkloadError: Error, CustomStringConvertible {
    public let description: String
}
