import BPFVM
import BTFDump
import Foundation
import Testing
import TestSupport

/// The tools and compiled objects these tests compare against bpftool. Objects are compiled from
/// Programs/*.c once, into the package's .build folder (see `CompiledFixtures`); progs/build/*.o
/// are included.
private enum DumpFixtures {
    static let clang = "/opt/swift/usr/bin/clang"
    static let objcopy = "/opt/swift/usr/bin/llvm-objcopy"
    static let bpftool = "/usr/sbin/bpftool"

    static let programsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Programs")
    static let progsBuildDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("progs/build")

    static var toolsAvailable: Bool {
        [clang, objcopy, bpftool].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let names: [String] = {
        let programs = (try? FileManager.default.contentsOfDirectory(atPath: programsDirectory.path)) ?? []
        let prebuilt = (try? FileManager.default.contentsOfDirectory(atPath: progsBuildDirectory.path)) ?? []
        return programs.filter { $0.hasSuffix(".c") }.sorted()
            + prebuilt.filter { $0.hasSuffix(".o") }.sorted().map { "progs/" + $0 }
    }()

    static func object(_ name: String) throws -> URL {
        if name.hasPrefix("progs/") { return progsBuildDirectory.appendingPathComponent(String(name.dropFirst(6))) }
        return try CompiledFixtures.object(
            compiling: programsDirectory.appendingPathComponent(name), clang: clang,
            arguments: ["-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu"], folder: "btf-programs")
    }

    /// Runs `body` with the object's `.BTF` section written to a file of its own (raw BTF), in a
    /// temporary directory removed afterwards.
    static func withRawBTF<R>(_ object: URL, _ body: (URL) throws -> R) throws -> R {
        try TemporaryDirectory.with("btf-dump-tests") { directory in
            let file = directory.file("raw.btf")
            let result = try dumpRun(objcopy, ["--dump-section", ".BTF=\(file.path)", object.path, directory.file("copy.o").path])
            guard result.status == 0 else { throw DumpFixtureError(message: "llvm-objcopy failed: \(result.errorOutput)") }
            return try body(file)
        }
    }

    static func bytes(_ url: URL) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url))
    }

    /// The C dump of the BTF in the file at `url` (an object or raw BTF).
    static func c(_ url: URL) throws -> String {
        let source = try BTFSource(file: try bytes(url))
        return try BTFDump.c(try source.parse(), pointerSize: source.pointerSize)
    }
}

private struct DumpFixtureError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

private func dumpRun(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String, errorOutput: String) {
    let result = try ToolRun(tool, arguments)
    return (result.status, result.stdout, result.stderr)
}

/// bpftool's output for `arguments`, which must succeed.
private func bpftool(_ arguments: [String]) throws -> String {
    let result = try dumpRun(DumpFixtures.bpftool, arguments)
    guard result.status == 0 else { throw DumpFixtureError(message: "bpftool \(arguments) failed: \(result.errorOutput)") }
    return result.output
}

/// The first line where `got` and `expected` differ, for readable failures.
private func firstDifference(_ got: String, _ expected: String) -> String {
    let a = got.split(separator: "\n", omittingEmptySubsequences: false)
    let b = expected.split(separator: "\n", omittingEmptySubsequences: false)
    for index in 0..<max(a.count, b.count) {
        let left = index < a.count ? String(a[index]) : "<end>"
        let right = index < b.count ? String(b[index]) : "<end>"
        if left != right { return "line \(index + 1): got '\(left)', bpftool '\(right)'" }
    }
    return "identical"
}

@Suite("BTF dumps equal bpftool's", .enabled(if: DumpFixtures.toolsAvailable, "needs /opt/swift/usr/bin/clang, llvm-objcopy and /usr/sbin/bpftool"))
struct BTFDumpTests {
    @Test("raw: byte-identical to bpftool btf dump file", arguments: DumpFixtures.names)
    func btfRaw(_ name: String) throws {
        let object = try DumpFixtures.object(name)
        let got = BTFDump.raw(try BTFSource(file: try DumpFixtures.bytes(object)).parse())
        let expected = try bpftool(["btf", "dump", "file", object.path])
        #expect(got == expected, "\(firstDifference(got, expected))")
    }

    @Test("json: byte-identical to bpftool -j btf dump file, and the same parsed JSON", arguments: DumpFixtures.names)
    func btfJSON(_ name: String) throws {
        let object = try DumpFixtures.object(name)
        let got = BTFDump.json(try BTFSource(file: try DumpFixtures.bytes(object)).parse())
        let expected = try bpftool(["-j", "btf", "dump", "file", object.path])
        #expect(got == expected, "\(firstDifference(got, expected))")
        let parsedGot = try JSONSerialization.jsonObject(with: Data(got.utf8)) as? NSDictionary
        let parsedExpected = try JSONSerialization.jsonObject(with: Data(expected.utf8)) as? NSDictionary
        #expect(parsedGot != nil && parsedGot == parsedExpected)
    }

    @Test("c: identical to bpftool btf dump file F format c, from the object and from raw BTF", arguments: DumpFixtures.names)
    func btfC(_ name: String) throws {
        let object = try DumpFixtures.object(name)
        let got = try DumpFixtures.c(object)
        let expected = try bpftool(["btf", "dump", "file", object.path, "format", "c"])
        #expect(got == expected, "\(firstDifference(got, expected))")
        let (gotRaw, expectedRaw) = try DumpFixtures.withRawBTF(object) { raw in
            (try DumpFixtures.c(raw), try bpftool(["btf", "dump", "file", raw.path, "format", "c"]))
        }
        #expect(gotRaw == expectedRaw, "\(firstDifference(gotRaw, expectedRaw))")
    }

    @Test("The C dump compiles as a header", arguments: ["btf_aggregates.c", "btf_layout.c", "btf_scalars.c"])
    func btfCCompiles(_ name: String) throws {
        let dump = try DumpFixtures.c(try DumpFixtures.object(name))
        let result = try TemporaryDirectory.with("btf-dump-tests") { directory in
            let header = directory.file("\(name).h")
            try dump.write(to: header, atomically: true, encoding: .utf8)
            let source = directory.file("\(name)-use.c")
            try "#include \"\(header.path)\"\nint use;\n".write(to: source, atomically: true, encoding: .utf8)
            return try dumpRun(DumpFixtures.clang, ["-target", "bpf", "-fsyntax-only", source.path])
        }
        #expect(result.status == 0, "\(result.errorOutput)")
    }
}

@Suite("BTF dump errors")
struct BTFDumpErrorTests {
    @Test("Bytes that are neither ELF nor BTF")
    func btfNotBTF() {
        #expect(throws: BTFSourceError.notBTF) { try BTFSource(file: Array("hello".utf8)) }
        #expect(throws: BTFSourceError.notBTF) { try BTFSource(file: []) }
    }

    @Test("A truncated ELF header")
    func btfBadELF() {
        #expect(throws: BTFSourceError.elf(ELFError(location: "ELF header", reason: .truncatedHeader(fileSize: 6)))) {
            try BTFSource(file: [0x7f, 0x45, 0x4c, 0x46, 2, 1])
        }
    }

    @Test("Malformed raw BTF is reported with its BTFError")
    func btfInvalid() {
        let bytes: [UInt8] = [0x9f, 0xeb, 2, 0, 24, 0, 0, 0] + [UInt8](repeating: 0, count: 30)
        #expect(throws: BTFError(.header, .unsupportedVersion(2))) { try BTFSource(file: bytes).parse() }
    }

    @Test("An ELF object without .BTF", .enabled(if: DumpFixtures.toolsAvailable, "needs clang"))
    func btfNoSection() throws {
        let bytes = try TemporaryDirectory.with("btf-dump-tests") { directory in
            let source = directory.file("nobtf.c")
            let object = directory.file("nobtf.o")
            try "int f(void) { return 1; }\n".write(to: source, atomically: true, encoding: .utf8)
            let result = try dumpRun(DumpFixtures.clang, ["-O2", "-target", "bpf", "-c", source.path, "-o", object.path])
            try #require(result.status == 0, "\(result.errorOutput)")
            return try DumpFixtures.bytes(object)
        }
        #expect(throws: BTFSourceError.noBTFSection) { try BTFSource(file: bytes) }
    }

    @Test("Every type kind's bpftool name")
    func btfKindNames() {
        #expect(BTFKind.Code.allCases.map(\.name) == [
            "UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE", "CONST",
            "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64",
        ])
    }
}

/// Raw BTF bytes (little-endian) from type records given as words, with their names.
private func handBuiltBTF(_ records: [[UInt32]], names: [String]) -> [UInt8] {
    func le(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    let types: [UInt8] = records.flatMap { $0.flatMap(le) }
    let strings: [UInt8] = [0] + names.flatMap { Array($0.utf8) + [0] }
    // Magic, version 1, flags 0, header length 24; types at 0, strings right after them.
    var bytes: [UInt8] = [0x9f, 0xeb, 1, 0]
    for word in [24, 0, types.count, types.count, strings.count] { bytes += le(UInt32(word)) }
    return bytes + types + strings
}

/// The type record header words: name offset, info (kind and vlen), size or type.
private func header(_ name: UInt32, kind: UInt32, vlen: UInt32 = 0, _ sizeOrType: UInt32) -> [UInt32] {
    [name, kind << 24 | vlen, sizeOrType]
}

@Suite("BTF the C dump refuses")
struct BTFDumpRefusalTests {
    /// "int" at name offset 1, "x" at 5, "huge" at 7.
    static let names = ["int", "x", "huge"]
    static let int = header(1, kind: 1, 4) + [1 << 24 | 32]

    @Test("a pointer to a prototype that takes that pointer: the kernel accepts it, C cannot declare it")
    func cycle() throws {
        // [1] int, [2] pointer to [3], [3] int (*)(x: [2]).
        let btf = try BTF(bytes: handBuiltBTF([Self.int, header(0, kind: 2, 3), header(0, kind: 13, vlen: 1, 1) + [5, 2]],
                                              names: Self.names))
        #expect(btf.cycleWithoutAggregate() != nil)
        #expect(throws: BTFDumpError.unprintableCycle(typeID: 2)) { try BTFDump.text(btf, as: .c) }
        #expect(try BTFDump.text(btf, as: .raw).contains("[2] PTR '(anon)' type_id=3"))
    }

    @Test("a struct of 64 MiB with one int member: libbpf would pad it with millions of lines")
    func size() throws {
        // [1] int, [2] struct huge { int x; } of 64 MiB.
        let btf = try BTF(bytes: handBuiltBTF([Self.int, header(7, kind: 4, vlen: 1, 64 << 20) + [5, 1, 0]],
                                              names: Self.names))
        #expect(btf.storedSize(of: 2) == 64 << 20 && btf.storedSize(of: 1) == 4)
        #expect(throws: BTFDumpError.unprintableSize(typeID: 2)) { try BTFDump.text(btf, as: .c) }
        // 4 KiB is printed as libbpf prints it: the member, then padding.
        let small = try BTF(bytes: handBuiltBTF([Self.int, header(7, kind: 4, vlen: 1, 4096) + [5, 1, 0]],
                                                names: Self.names))
        #expect(try BTFDump.text(small, as: .c).contains("struct huge {\n\tint x;\n\tlong: 64;\n"))
    }
}
