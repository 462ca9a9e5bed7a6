#if canImport(Glibc)
import Glibc
#endif
import BPFVM
import JIT
import NativePrograms
import Verifier

/// One benchmark program: its C source (built for BPF and natively from the same file), the
/// native function, and the BPF program loaded, verified and JIT-compiled, with the input
/// memory every engine runs over.
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
         native: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Int) throws
    {
        self.name = name
        self.summary = summary
        self.isDeterministic = deterministic
        self.native = native
        let objectFile = try BPFBuild.object(for: name)
        object = try LoadedObject(try Object(bytes: objectFile, name: name))
        try object.load()
        loaded = try object.program(named: name)
        verified = try loaded.verify(contextSize: Workload.contextSize)
        compiled = try JITCompiler().compile(verified, loaded: loaded)
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

    /// The BPF build in the interpreter (trusted: verified), on a copy of the context.
    public func runInterpreter() throws -> UInt64 {
        try verified.testRun(input: Array(UnsafeRawBufferPointer(context))).result
    }

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

    /// The eight programs.
    public static func all() throws -> [Workload] {
        [
            try Workload(name: "fnv1a", summary: "hashing: 64-bit FNV-1a over 512 bytes", native: native_fnv1a),
            try Workload(name: "crc32", summary: "CRC: bitwise CRC-32 over 128 bytes", native: native_crc32),
            try Workload(name: "sort", summary: "sorting: insertion sort of 32 words", native: native_sort),
            try Workload(name: "divide", summary: "integer math: 256 divisions and remainders", native: native_divide),
            try Workload(name: "bits", summary: "bit tricks: popcount, reversal, lowest bit of 128 words", native: native_bits),
            try Workload(name: "matrix", summary: "loops: an 8x8 matrix product", native: native_matrix),
            try Workload(name: "histogram", summary: "map-heavy: 256 array-map lookups and updates", native: native_histogram),
            try Workload(name: "random", summary: "helper calls: 256 bpf_get_prandom_u32", deterministic: false,
                         native: native_random),
        ]
    }
}
