import Foundation
import Testing
import BPFVM

/// The inputs the fuzzers kept (FuzzTesting/Corpus), replayed as regression tests: every one
/// must parse (and load, link, bind and run a bounded run) or fail with a typed error, never crash or hang.
enum FuzzCorpus {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("FuzzTesting/Corpus")

    static func inputs(_ name: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(name).path)) ?? [])
            .sorted().map { name + "/" + $0 }
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(path)))
    }

    /// FuzzLoad's path (FuzzTesting/Sources/FuzzLoad): the bytes as an object, its maps created, every program
    /// linked (CO-RE against the object's own BTF) and bound, every global variable read, then each program run
    /// once in checked mode over a zeroed 256-byte context with a 10 000-instruction budget (callbacks
    /// included: `bpf_loop` runs inside the run). Returns how far it got, for the record.
    @discardableResult
    static func load(_ bytes: [UInt8]) -> String {
        let loaded: LoadedObject
        do {
            let object = try Object(bytes: bytes, name: "fuzz")
            loaded = try LoadedObject(object)
            try loaded.load(targetBTF: object.btf)
        } catch {
            return "\(error)"
        }
        for section in loaded.object.globalData {
            for variable in section.variables { _ = loaded.global(variable.name) }
        }
        for program in loaded.programs {
            var interpreter = program.interpreter
            interpreter.instructionBudget = 10_000
            var memory = [UInt8](repeating: 0, count: 256)
            memory.withUnsafeMutableBytes { buffer in
                _ = try? interpreter.run(arguments: [UInt64(UInt(bitPattern: buffer.baseAddress)), 256],
                                         regions: [MemoryRegion(buffer)],
                                         context: loaded.context)
            }
        }
        return "loaded \(loaded.programs.count) programs"
    }
}

@Suite("Fuzzer corpus replay")
struct FuzzCorpusTests {
    @Test("ELF corpus: objects parse or fail cleanly, and whatever parses goes through Object, the linker and FuzzLoad's path",
          .enabled(if: !FuzzCorpus.inputs("ELF").isEmpty, "FuzzTesting/Corpus/ELF is missing"),
          arguments: FuzzCorpus.inputs("ELF"))
    func elf(_ path: String) throws {
        let bytes = try FuzzCorpus.bytes(path)
        guard (try? ELFFile(bytes: bytes)) != nil, let object = try? Object(bytes: bytes, name: "fuzz") else { return }
        for entry in object.programs { _ = try? Linker.link(object, program: entry.name) }
        FuzzCorpus.load(bytes)
    }

    @Test("Load corpus: objects load, link, bind and run a bounded checked run, or fail cleanly",
          .enabled(if: !FuzzCorpus.inputs("Load").isEmpty, "FuzzTesting/Corpus/Load is missing"),
          arguments: FuzzCorpus.inputs("Load"))
    func load(_ path: String) throws {
        FuzzCorpus.load(try FuzzCorpus.bytes(path))
    }

    @Test("BTF corpus: .BTF and .BTF.ext parse or fail cleanly",
          .enabled(if: !FuzzCorpus.inputs("BTF").isEmpty, "FuzzTesting/Corpus/BTF is missing"),
          arguments: FuzzCorpus.inputs("BTF"))
    func btf(_ path: String) throws {
        // The fuzzer's layout: a u32 length n, n bytes of .BTF, then .BTF.ext (or all .BTF when n is too large).
        let input = try FuzzCorpus.bytes(path)
        var btfBytes = input
        var extBytes: [UInt8] = []
        if input.count >= 4 {
            let length = Int(input[0]) | Int(input[1]) << 8 | Int(input[2]) << 16 | Int(input[3]) << 24
            if length <= input.count - 4 {
                btfBytes = Array(input[4..<(4 + length)])
                extBytes = Array(input[(4 + length)...])
            }
        }
        guard let btf = try? BTF(bytes: btfBytes) else { return }
        for type in btf.types { _ = btf.resolvedSize(of: type.id) }
        if !extBytes.isEmpty { _ = try? BTFExt(bytes: extBytes, btf: btf) }
    }
}
