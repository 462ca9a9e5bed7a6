import Foundation
import Testing
import BPFVM
import Verifier

/// The compatibility suite: the objects of progs/compat (built by `make -C progs` into
/// progs/build/compat), the kernels they are relocated against, and what this runtime can do
/// with each.
enum CompatSuite {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let directory = repository.appendingPathComponent("progs/build/compat")

    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".o") }.map { String($0.dropLast(2)) }.sorted()

    static let isBuilt = !names.isEmpty
    static let skipReason: Comment = "progs/build/compat is empty; run `make -C progs` first"

    /// The programs of the suite that cannot run here (kernel-only by section, helper or map
    /// type), with what the error loading them names.
    static let kernelOnlyPrograms: [String: String] = [
        "mixed_multi/count_tcp_functions": "kprobe.multi",
        "mixed_maps/drop_blocked": "lpm_trie",
        "mixed_helpers/kill_parent_on_exit": "unknown helper 35",
        "mixed_iter/dump_task": "unknown helper 126",
    ]

    /// The runnable programs the verifier refuses, with its message (a part of it): the ones that
    /// reach a poisoned instruction on purpose.
    static let verifierRefusals: [String: String] = [
        "guarded_fields/read_missing": "invalid func unknown#195896080: the loader poisoned this call: CO-RE relocation",
        "ksym_guard/call_unguarded": "invalid func unknown#2000000003: the loader poisoned this call: weak kfunc",
    ]

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name + ".o") }

    static func object(_ name: String) throws -> Object {
        try Object(bytes: [UInt8](Data(contentsOf: url(name))), name: name)
    }

    /// The number of instruction slots of program `program` of `name`, linked without a target.
    static func linkedCount(_ name: String, _ program: String) throws -> Int {
        try Linker.link(object(name), program: program).instructions.count
    }

    /// A recent kernel's types (progs/compat/target/kernel_new.c).
    static let newKernel: BTF? = targetBTF("kernel_new")
    /// A kernel before 5.14 and 5.17 (progs/compat/target/kernel_old.c).
    static let oldKernel: BTF? = targetBTF("kernel_old")

    static func targetBTF(_ name: String) -> BTF? {
        let url = directory.appendingPathComponent("target/\(name).o")
        guard let bytes = try? Data(contentsOf: url) else { return nil }
        return try? Object(bytes: [UInt8](bytes), name: name).btf
    }

    /// `name` loaded against `kernel` (the recent one by default), after `configure`.
    static func load(_ name: String, kernel: BTF? = newKernel, kernelConfig: KernelConfig = KernelConfig(),
                     context: ExecutionContext = ExecutionContext(),
                     configure: (LoadedObject) throws -> Void = { _ in }) throws -> LoadedObject
    {
        let loaded = try LoadedObject(object(name), context: context, kernelConfig: kernelConfig)
        try configure(loaded)
        try loaded.load(targetBTF: try #require(kernel, "the compat target kernels are not built"))
        return loaded
    }

    static let modes = [true, false]
}

/// Host memory laid out as a target kernel lays out its types: each struct is built from the
/// member offsets of the target's BTF (found through anonymous members, as the kernel's own
/// code reaches them), so programs relocated against that BTF read what the test wrote. Every
/// buffer stays alive as long as the memory and is listed as a region for checked runs.
final class KernelMemory {
    let btf: BTF
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    init(_ btf: BTF) { self.btf = btf }

    deinit { buffers.forEach { $0.deallocate() } }

    var regions: [MemoryRegion] { buffers.map { MemoryRegion($0) } }

    /// A zeroed buffer of `count` bytes; returns its address.
    func allocate(_ count: Int) -> UInt64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        buffers.append(buffer)
        return UInt64(UInt(bitPattern: buffer.baseAddress))
    }

    /// `bytes` in a buffer of their own; returns its address.
    func bytes(_ bytes: [UInt8]) -> UInt64 {
        let address = allocate(bytes.count)
        bytes.withUnsafeBytes { UnsafeMutableRawPointer(bitPattern: UInt(address))!.copyMemory(from: $0.baseAddress!,
                                                                                              byteCount: bytes.count) }
        return address
    }

    /// A NUL-terminated string; returns its address.
    func string(_ text: String) -> UInt64 { bytes(Array(text.utf8) + [0]) }

    /// 64-bit words (an argv array, u64 argument slots); returns their address.
    func words(_ values: [UInt64]) -> UInt64 { bytes(values.flatMap { le($0) }) }

    /// The byte offset and size of `path` (`a.b.c`, each step a member, possibly of an
    /// anonymous member) in the target's `struct type`.
    func field(_ path: String, of type: String) throws -> (offset: Int, size: Int) {
        var current = try #require(btf.types.first { $0.name == type && $0.kind.code == .structure }?.id,
                                   "the target has no struct \(type)")
        var offset = 0
        var size = 0
        for step in path.split(separator: ".") {
            let (member, bits) = try #require(btf.member(named: String(step), in: current),
                                              "struct \(type) has no member \(path)")
            offset += bits / 8
            size = try #require(btf.resolvedSize(of: member.type))
            current = member.type
        }
        return (offset, size)
    }

    /// A zeroed `struct type` of the target with `fields` set (an integer in the field's size,
    /// or bytes); returns its address.
    func make(_ type: String, _ fields: [String: Field] = [:]) throws -> UInt64 {
        let id = try #require(btf.types.first { $0.name == type && $0.kind.code == .structure }?.id)
        let address = allocate(try #require(btf.resolvedSize(of: id)))
        let base = UnsafeMutableRawPointer(bitPattern: UInt(address))!
        for (path, value) in fields {
            let (offset, size) = try field(path, of: type)
            let bytes: [UInt8]
            switch value {
            case .integer(let number): bytes = Array(le(UInt64(bitPattern: number)).prefix(size))
            case .bytes(let raw):
                try #require(raw.count <= size, "\(raw.count) bytes do not fit \(type).\(path) (\(size) bytes)")
                bytes = raw
            }
            bytes.withUnsafeBytes { (base + offset).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        }
        return address
    }

    enum Field {
        case integer(Int64)
        case bytes([UInt8])

        static func pointer(_ address: UInt64) -> Field { .integer(Int64(bitPattern: address)) }
        static func text(_ string: String) -> Field { .bytes(Array(string.utf8) + [0]) }
    }

    /// The size of the target's `struct type`.
    func size(of type: String) throws -> Int {
        let id = try #require(btf.types.first { $0.name == type && $0.kind.code == .structure }?.id)
        return try #require(btf.resolvedSize(of: id))
    }

    /// Runs `program` with r1 = the context at `context` (`size` bytes) and r2 its size.
    func run(_ program: LoadedProgram, context: UInt64, size: Int, checked: Bool) throws -> UInt64 {
        try program.suiteRun(arguments: [context, UInt64(size)], regions: regions, contextSize: size, checked: checked)
    }

    /// Runs a tp_btf/fentry-style `program` whose context is u64 argument slots.
    func run(_ program: LoadedProgram, slots: [UInt64], checked: Bool) throws -> UInt64 {
        try run(program, context: words(slots), size: slots.count * 8, checked: checked)
    }
}

/// Little-endian bytes of an integer.
func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

/// Reading fields out of records and values.
extension Array where Element == UInt8 {
    func integer<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        self[offset..<(offset + MemoryLayout<T>.size)].withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    /// The NUL-terminated string at `offset`, at most `count` bytes.
    func string(at offset: Int, count: Int) -> String {
        String(decoding: self[offset..<(offset + count)].prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// The suite's runs: checked, or unchecked only once the verifier accepts the program for the
/// context the run gives it, as `bpfrun run` runs a program unless `--checked` is given.
extension LoadedProgram {
    func suiteRun(arguments: [UInt64], regions: [MemoryRegion], contextSize: Int, checked: Bool) throws -> UInt64 {
        if !checked { _ = try verify(contextSize: contextSize) }
        return try run(arguments: arguments, regions: regions, checked: checked)
    }

    /// Runs the program over `context` as its memory (r1, with r2 its size).
    func suiteRun(context: [UInt8], checked: Bool) throws -> UInt64 {
        if !checked { _ = try verify(contextSize: context.count) }
        var memory = context
        return try memory.withUnsafeMutableBytes { try run(memory: $0, checked: checked) }
    }

    /// `testRun(input:)` checked, or verified and unchecked.
    func suiteTestRun(input: [UInt8], checked: Bool) throws -> UInt64 {
        if checked { return try testRun(input: input).result }
        return try verify(contextSize: input.count).testRun(input: input).result
    }
}

extension LoadedObject {
    func global<T: FixedWidthInteger>(_ name: String, as: T.Type, at offset: Int = 0) throws -> T {
        try #require(global(name)).integer(T.self, at: offset)
    }
}

/// The calling thread's name as `bpf_get_current_comm` gives it.
var currentComm: String {
    ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "")
        .trimmingCharacters(in: .newlines)
}
