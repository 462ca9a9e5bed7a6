import Foundation
import Testing
import BPFVM
import JIT

/// The objects of progs/, built by `make -C progs` (scripts/test runs it before the tests).
enum Progs {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("progs/build")

    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".o") }.map { String($0.dropLast(2)) }.sorted()

    static let isBuilt = !names.isEmpty
    static let skipReason: Comment = "progs/build is empty; run `make -C progs` first"

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name + ".o")))
    }

    static func object(_ name: String) throws -> Object {
        try Object(bytes: bytes(name), name: name)
    }

    /// The host's types (progs/host_types.c), the CO-RE target hook programs are loaded against.
    static func hostBTF() throws -> BTF {
        try #require(try object("host_types").btf)
    }

    /// A freshly loaded object, CO-RE resolved against the host's types.
    static func load(_ name: String, configure: (LoadedObject) throws -> Void = { _ in }) throws -> LoadedObject {
        let loaded = try LoadedObject(object(name))
        try configure(loaded)
        try loaded.load(targetBTF: hostBTF())
        return loaded
    }
}

/// Host memory a hook program's context points into: the u64 argument slots plus buffers
/// (structs) that arguments point to, all kept alive and listed as regions for checked runs.
final class HookMemory {
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    deinit { buffers.forEach { $0.deallocate() } }

    /// A buffer holding `bytes`; returns its address.
    func buffer(_ bytes: [UInt8]) -> UInt64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        buffers.append(buffer)
        return UInt64(UInt(bitPattern: buffer.baseAddress))
    }

    var regions: [MemoryRegion] { buffers.map { MemoryRegion($0) } }

    /// Runs `program` with the argument `slots` as its context, by `engine`.
    func run(_ program: LoadedProgram, slots: [UInt64], engine: Engine = .checked) throws -> UInt64 {
        let address = buffer(slots.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) })
        return try engine.run(program, arguments: [address, UInt64(slots.count * 8)], regions: regions)
    }
}

/// How a test runs a program: in the interpreter, checked or trusted, or JIT-compiled together
/// with the other programs of its object (its tail calls' targets). Like trusted mode here, the
/// JIT runs what the tests give it without verifying it (the package-level entry).
enum Engine: CaseIterable, CustomStringConvertible, Sendable {
    case checked, trusted, jit

    var description: String {
        switch self {
        case .checked: "checked"
        case .trusted: "trusted"
        case .jit: "jit"
        }
    }

    func run(_ program: LoadedProgram, arguments: [UInt64], regions: [MemoryRegion]) throws -> UInt64 {
        if self == .trusted { Self.vouch(for: program) }
        switch self {
        case .checked, .trusted: return try program.run(arguments: arguments, regions: regions, checked: self == .checked)
        case .jit: return try compiled(program).run(arguments: arguments)
        }
    }

    func run(_ program: LoadedProgram, memory: UnsafeMutableRawBufferPointer) throws -> UInt64 {
        try run(program, arguments: [UInt64(UInt(bitPattern: memory.baseAddress)), UInt64(memory.count)],
                regions: [MemoryRegion(memory)])
    }

    func testRun(_ program: LoadedProgram, input: [UInt8]) throws -> (result: UInt64, output: [UInt8]) {
        if self == .trusted { Self.vouch(for: program) }
        guard self == .jit else { return try program.testRun(input: input, checked: self == .checked) }
        let code = try compiled(program)
        return try program.testRun(input: input) { (arguments, _) throws(ExecutionError) in try code.run(arguments: arguments) }
    }

    /// Trusted mode's tail calls go on unchecked only into programs proven safe for the same
    /// context as the entry's; these tests vouch for every program of the object instead of the
    /// verifier (the interpreter is what they test).
    private static func vouch(for program: LoadedProgram) {
        let context = ProvenContext(kind: program.kind, layout: .memory(size: 0, lengthInR2: false))
        for each in [program] + program.siblings { each.proofs.record(context) }
    }

    private func compiled(_ program: LoadedProgram) throws -> CompiledProgram {
        try JITCompiler().compileUnverified([program] + program.siblings.filter { $0 !== program })[0]
    }
}

/// Little-endian bytes of integers, for building structs.
func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

/// A hook program's int return value (the low 32 bits of r0, signed).
func int32(_ r0: UInt64) -> Int32 { Int32(truncatingIfNeeded: r0) }

extension LoadedObject {
    /// A global variable read as an integer of type T at `offset` within it.
    func global<T: FixedWidthInteger>(_ name: String, as: T.Type, at offset: Int = 0) throws -> T {
        let bytes = try #require(global(name))
        return bytes[offset..<(offset + MemoryLayout<T>.size)].withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }
}
