import BPFVM
import Foundation
import Testing
import TestSupport

// MARK: - Fixtures: C programs compiled at test time, plus progs/build/*.o

/// The tools and compiled objects the BTF tests use. Objects are compiled from
/// Tests/BTFDumpTests/Programs/*.c once, into the package's .build folder (see `CompiledFixtures`).
private enum BTFFixtures {
    static let clang = "/opt/swift/usr/bin/clang"
    static let objcopy = "/opt/swift/usr/bin/llvm-objcopy"
    static let objdump = "/opt/swift/usr/bin/llvm-objdump"

    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let programsDirectory = testsDirectory.appendingPathComponent("BTFDumpTests/Programs")
    static let progsBuildDirectory = testsDirectory.deletingLastPathComponent().appendingPathComponent("progs/build")

    static var toolsAvailable: Bool {
        [clang, objcopy, objdump].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Fixture names: `btf_x.c` for a program to compile, `progs/x.o` for a prebuilt object.
    static let names: [String] = {
        let programs = (try? FileManager.default.contentsOfDirectory(atPath: programsDirectory.path)) ?? []
        let prebuilt = (try? FileManager.default.contentsOfDirectory(atPath: progsBuildDirectory.path)) ?? []
        return programs.filter { $0.hasSuffix(".c") }.sorted()
            + prebuilt.filter { $0.hasSuffix(".o") }.sorted().map { "progs/" + $0 }
    }()

    /// The fixtures that hold no code, only types and data, and why. Without code there is no
    /// function or line info, so clang emits no `.BTF.ext`; every other fixture must have one.
    static let withoutCode: [String: String] = [
        "btf_escapes.c": "only a global variable with a decl tag",
        "progs/host_types.o": "only the host's kernel types, as global variables (the CO-RE target)",
    ]

    /// The fixtures with code, whose `.BTF.ext` the tests read.
    static let namesWithCode = names.filter { withoutCode[$0] == nil }

    /// The entries of `withoutCode` to check: those of progs/ only when progs/build has been built.
    static let namesWithoutCode = withoutCode.keys.sorted().filter {
        !$0.hasPrefix("progs/") || names.contains { $0.hasPrefix("progs/") }
    }

    /// The object file of fixture `name`, compiled on first use.
    static func object(_ name: String) throws -> URL {
        if name.hasPrefix("progs/") { return progsBuildDirectory.appendingPathComponent(String(name.dropFirst(6))) }
        return try CompiledFixtures.object(
            compiling: programsDirectory.appendingPathComponent(name), clang: clang,
            arguments: ["-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu"], folder: "btf-programs")
    }

    /// The bytes of section `section` of `object` (nil if the object has none); any other
    /// llvm-objcopy failure throws.
    static func section(_ section: String, of object: URL) throws -> [UInt8]? {
        try TemporaryDirectory.with("btf-tests") { directory in
            let file = directory.file("section")
            let result = try btfRun(objcopy, ["--dump-section", "\(section)=\(file.path)", object.path,
                                              directory.file("copy.o").path])
            if result.status != 0 && result.errorOutput.contains("section '\(section)' not found") { return nil }
            guard result.status == 0, let data = FileManager.default.contents(atPath: file.path) else {
                throw BTFFixtureError(message: "llvm-objcopy --dump-section \(section) failed on \(object.path): "
                                      + result.errorOutput)
            }
            return [UInt8](data)
        }
    }

    /// The bytes of `.BTF.ext` of a fixture that has code; a missing section is a failure.
    static func requiredExtSection(of object: URL, fixture name: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
        try #require(try section(".BTF.ext", of: object),
                     "\(name) has code but no .BTF.ext (if it has no code, list it in BTFFixtures.withoutCode)",
                     sourceLocation: sourceLocation)
    }
}

private struct BTFFixtureError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Runs `tool` and returns its exit status and outputs.
private func btfRun(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String, errorOutput: String) {
    let result = try ToolRun(tool, arguments)
    return (result.status, result.stdout, result.stderr)
}

// MARK: - Real objects

@Suite("BTF of compiled objects", .enabled(if: BTFFixtures.toolsAvailable, "needs /opt/swift/usr/bin/clang, llvm-objcopy and llvm-objdump"))
struct BTFObjectTests {
    @Test("BTF parses, and its types are the ones llvm-objdump and the records say", arguments: BTFFixtures.names)
    func btfParses(_ name: String) throws {
        let object = try BTFFixtures.object(name)
        let bytes = try #require(try BTFFixtures.section(".BTF", of: object))
        let btf = try BTF(bytes: bytes)
        #expect(btf.types[0].kind == .void)
        for (index, type) in btf.types.enumerated() {
            #expect(type.id == UInt32(index))
            #expect(type.header.kindNumber == type.kind.code.rawValue)
            #expect(btf.string(at: type.header.nameOffset) == type.name || type.id == 0)
        }
        // Every ELF section with global variables has a DATASEC naming its variables.
        for datasec in btf.types where datasec.kind.code == .dataSection {
            guard case .dataSection(_, let entries) = datasec.kind else { continue }
            #expect(btf.dataSection(named: datasec.name)?.id == datasec.id)
            for entry in entries {
                let code = btf.type(entry.type)?.kind.code
                #expect(code == .variable || code == .function)
            }
        }
        #expect(btf.firstType(named: "LICENSE", kind: .variable) != nil || name.hasPrefix("progs/"))
    }

    @Test("BTF.ext function info names every function llvm-objdump lists", arguments: BTFFixtures.namesWithCode)
    func btfExtFunctionInfo(_ name: String) throws {
        let object = try BTFFixtures.object(name)
        let btf = try BTF(bytes: try #require(try BTFFixtures.section(".BTF", of: object)))
        let ext = try BTFExt(bytes: try BTFFixtures.requiredExtSection(of: object, fixture: name), btf: btf)
        let listing = try btfRun(BTFFixtures.objdump, ["-d", "--no-show-raw-insn", object.path]).output
        var expected = Set<String>()
        var section = ""
        for line in listing.split(separator: "\n") {
            if line.hasPrefix("Disassembly of section ") {
                section = String(line.dropFirst("Disassembly of section ".count).dropLast())
            } else if let open = line.firstIndex(of: "<"), line.hasSuffix(">:") {
                let address = Int(line[..<open].trimmingCharacters(in: .whitespaces), radix: 16) ?? -1
                expected.insert("\(section)+\(address) \(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)])")
            }
        }
        #expect(!expected.isEmpty, "llvm-objdump lists no function in \(name)")
        var found = Set<String>()
        for (section, records) in ext.functionInfo {
            for record in records {
                let function = try #require(btf.type(record.typeID))
                found.insert("\(section)+\(record.instructionOffset) \(function.name)")
            }
        }
        #expect(found == expected)
    }

    @Test("BTF.ext line info quotes the source lines it points to", arguments: BTFFixtures.namesWithCode)
    func btfExtLineInfo(_ name: String) throws {
        let object = try BTFFixtures.object(name)
        let btf = try BTF(bytes: try #require(try BTFFixtures.section(".BTF", of: object)))
        let ext = try BTFExt(bytes: try BTFFixtures.requiredExtSection(of: object, fixture: name), btf: btf)
        #expect(!ext.lineInfo.isEmpty)
        var sources: [String: [Substring]] = [:]
        for (section, records) in ext.lineInfo {
            #expect(ext.functionInfo[section] != nil)
            for record in records {
                #expect(record.instructionOffset % 8 == 0)
                if sources[record.fileName] == nil, let text = try? String(contentsOfFile: record.fileName, encoding: .utf8) {
                    sources[record.fileName] = text.split(separator: "\n", omittingEmptySubsequences: false)
                }
                guard let lines = sources[record.fileName] else { continue }
                #expect(record.lineNumber >= 1 && record.lineNumber <= lines.count)
                if record.lineNumber >= 1 && record.lineNumber <= lines.count {
                    #expect(String(lines[record.lineNumber - 1]) == record.line)
                }
            }
        }
        // What llvm-objdump -S prints (from DWARF) is among the lines BTF records.
        let listing = try btfRun(BTFFixtures.objdump, ["-S", "--no-show-raw-insn", object.path]).output
        let recorded = Set(ext.lineInfo.values.joined().map { $0.line.trimmingCharacters(in: .whitespaces) })
        for line in listing.split(separator: "\n") where line.hasPrefix("; ") {
            let text = line.dropFirst(2).trimmingCharacters(in: .whitespaces)
            if text == "{" || text == "}" { continue }  // DWARF marks braces that BTF line info may skip
            #expect(recorded.contains(text), "objdump prints '\(text)' but no line info record has it")
        }
    }

    @Test("BTF.ext CO-RE relocations are the ones llvm-objdump annotates", arguments: BTFFixtures.namesWithCode)
    func btfExtCoreRelocations(_ name: String) throws {
        let object = try BTFFixtures.object(name)
        let btf = try BTF(bytes: try #require(try BTFFixtures.section(".BTF", of: object)))
        let ext = try BTFExt(bytes: try BTFFixtures.requiredExtSection(of: object, fixture: name), btf: btf)
        let listing = try btfRun(BTFFixtures.objdump, ["-d", "-r", "--no-show-raw-insn", object.path]).output
        var expected = Set<String>()
        var section = ""
        for line in listing.split(separator: "\n") {
            if line.hasPrefix("Disassembly of section ") {
                section = String(line.dropFirst("Disassembly of section ".count).dropLast())
                continue
            }
            guard let range = line.range(of: ":  CO-RE <") else { continue }
            let address = Int(line[..<range.lowerBound].trimmingCharacters(in: .whitespaces), radix: 16) ?? -1
            let rest = line[range.upperBound...]
            let tag = rest.prefix { $0 != ">" }
            let typeID = rest.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }
            var access = ""
            if rest.hasSuffix(")"), let open = rest.lastIndex(of: "(") {
                access = String(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)])
            }
            expected.insert("\(section)+\(address) \(tag) [\(typeID)] \(access)")
        }
        var found = Set<String>()
        for (section, records) in ext.coreRelocations {
            for record in records {
                let access = record.kind.isFieldRelocation ? record.accessString : ""
                found.insert("\(section)+\(record.instructionOffset) \(record.kind.objdumpTag) [\(record.typeID)] \(access)")
                #expect(!record.accessIndices.isEmpty)
            }
        }
        #expect(found == expected)
        if name == "btf_core.c" {
            #expect(Set(ext.coreRelocations.values.joined().map(\.kind)) == Set(BTFCoreRelocationKind.allCases))
        }
    }

    @Test("Fixtures listed as having no code have none, and so no .BTF.ext",
          arguments: BTFFixtures.namesWithoutCode)
    func btfWithoutCode(_ name: String) throws {
        try #require(BTFFixtures.names.contains(name), "BTFFixtures.withoutCode lists \(name), which is not a fixture")
        let object = try BTFFixtures.object(name)
        _ = try #require(try BTFFixtures.section(".BTF", of: object))
        let listing = try btfRun(BTFFixtures.objdump, ["-d", object.path])
        #expect(listing.status == 0, "\(listing.errorOutput)")
        #expect(!listing.output.contains(">:"), "\(name) has code: \(listing.output)")
        #expect(try BTFFixtures.section(".BTF.ext", of: object) == nil,
                "\(name) has a .BTF.ext; remove it from BTFFixtures.withoutCode")
    }

    @Test("Queries: sizes, modifiers, members through anonymous members, lookups by kind")
    func btfQueries() throws {
        let btf = try BTF(bytes: try #require(try BTFFixtures.section(".BTF", of: BTFFixtures.object("btf_aggregates.c"))))
        let outer = try #require(btf.firstType(named: "outer", kind: .structure))
        let outerSize = try #require(btf.resolvedSize(of: outer.id))
        #expect(btf.resolvedSize(of: try #require(btf.firstType(named: "outer_t")).id) == outerSize)
        #expect(btf.resolvedSize(of: try #require(btf.firstType(named: "arr_t")).id) == 40)
        #expect(btf.resolvedSize(of: try #require(btf.firstType(named: "packed", kind: .structure)).id) == 7)
        // typedef const myint2 cmyint; typedef myint myint2; typedef int myint;
        let cmyint = try #require(btf.firstType(named: "cmyint"))
        #expect(btf.type(btf.skippingModifiersAndTypedefs(cmyint.id))?.name == "int")
        #expect(btf.skippingQualifiers(cmyint.id) == cmyint.id)
        let qualified = try #require(cmyint.kind.referencedType)
        #expect(btf.type(qualified)?.kind.code == .const)
        #expect(btf.type(btf.skippingQualifiers(qualified))?.name == "myint2")
        // Members inside anonymous unions and structs are found with their offsets from `outer`.
        let uF = try #require(btf.member(named: "u_f", in: outer.id))
        let s2 = try #require(btf.member(named: "s2", in: outer.id))
        #expect(uF.bitOffset == 96)
        #expect(s2.bitOffset == 144)
        #expect(btf.member(named: "nope", in: outer.id) == nil)
        let bits = try #require(btf.firstType(named: "bits", kind: .structure))
        let c = try #require(btf.member(named: "c", in: bits.id))
        #expect(c.member.bitfieldSize == 7 && c.bitOffset == 8)
        #expect(btf.types(named: "outer").count == 1)
        #expect(btf.firstType(named: "outer", kind: .union) == nil)
        #expect(btf.resolvedSize(of: 0) == nil)
    }
}

// MARK: - Hand-built BTF

/// Builds `.BTF` bytes record by record (little-endian), for inputs clang never writes.
private struct BTFBuilder {
    var strings: [UInt8] = [0]
    var words: [UInt32] = []
    var count = 0

    mutating func name(_ text: String) -> UInt32 {
        let offset = UInt32(strings.count)
        strings += Array(text.utf8) + [0]
        return offset
    }

    /// Appends a record and returns its type id.
    @discardableResult
    mutating func add(_ kind: UInt32, name: UInt32 = 0, vlen: UInt32 = 0, kindFlag: Bool = false, _ sizeOrType: UInt32,
                      _ extra: [UInt32] = []) -> UInt32 {
        words += [name, (kindFlag ? 1 << 31 : 0) | kind << 24 | vlen, sizeOrType] + extra
        count += 1
        return UInt32(count)
    }

    mutating func int(_ text: String = "int", size: UInt32 = 4, bits: UInt32 = 32, encoding: UInt32 = 1) -> UInt32 {
        add(1, name: name(text), size, [encoding << 24 | bits])
    }

    mutating func structure(_ text: String, size: UInt32, _ members: [(String, UInt32, UInt32)], union: Bool = false,
                            kindFlag: Bool = false) -> UInt32 {
        var extra: [UInt32] = []
        for (memberName, type, offset) in members { extra += [memberName.isEmpty ? 0 : name(memberName), type, offset] }
        return add(union ? 5 : 4, name: text.isEmpty ? 0 : name(text), vlen: UInt32(members.count), kindFlag: kindFlag,
                   size, extra)
    }

    var typeBytes: [UInt8] { words.flatMap { btfLittleEndian($0) } }

    func bytes(headerLength: UInt32 = 24, magic: UInt16 = 0xeb9f, version: UInt8 = 1, flags: UInt8 = 0,
               tail: [UInt8] = []) -> [UInt8] {
        let types = typeBytes
        var header: [UInt8] = [UInt8(magic & 0xff), UInt8(magic >> 8), version, flags] + btfLittleEndian(headerLength)
        header += btfLittleEndian(0) + btfLittleEndian(UInt32(types.count))
        header += btfLittleEndian(UInt32(types.count)) + btfLittleEndian(UInt32(strings.count))
        header += tail
        return header + types + strings
    }
}

private func btfLittleEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value & 0xff), UInt8(value >> 8 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 24)]
}

/// A small BTF with one type of most kinds, for error and robustness tests.
private func btfSample() -> BTFBuilder {
    var b = BTFBuilder()
    let int = b.int()                                              // 1
    let ptr = b.add(2, 0, [])                                      // 2: void *
    _ = ptr
    let s = b.structure("pair", size: 8, [("a", int, 0), ("b", int, 32)])  // 3
    let array = b.add(3, 0, [int, int, 4])                         // 4: int[4]
    let typedef = b.add(8, name: b.name("pair_t"), s)              // 5
    let proto = b.add(13, vlen: 2, int, [b.name("x"), int, b.name("p"), typedef])  // 6
    let function = b.add(12, name: b.name("f"), vlen: 1, proto)    // 7
    let variable = b.add(14, name: b.name("v"), array, [1])        // 8
    b.add(15, name: b.name(".data"), vlen: 1, 16, [variable, 0, 16])  // 9
    b.add(6, name: b.name("e"), vlen: 2, kindFlag: true, 4, [b.name("A"), UInt32(bitPattern: -1), b.name("B"), 1])  // 10
    b.add(17, name: b.name("tag"), function, [UInt32(bitPattern: -1)])  // 11
    b.add(16, name: b.name("float"), 4)                            // 12
    return b
}

/// Builds `.BTF.ext` bytes for `btfSample()`.
private func btfExtSample(functionRecordSize: UInt32 = 8, functionCount: UInt32 = 1, functionType: UInt32 = 7,
                          sectionName: UInt32 = 0, relocationKind: UInt32 = 0, accessString: String = "0:1",
                          instructionOffset: UInt32 = 0) -> (btf: [UInt8], ext: [UInt8]) {
    var b = btfSample()
    let section = b.name(".text")
    let file = b.name("/src/f.c")
    let line = b.name("int f(int x, pair_t p)")
    let access = b.name(accessString)
    var function: [UInt32] = [functionRecordSize, sectionName == 0 ? section : sectionName, functionCount]
    for index in 0..<functionCount {
        function += [instructionOffset + index * 8, functionType] + [UInt32](repeating: 0, count: max(0, Int(functionRecordSize / 4) - 2))
    }
    let lines: [UInt32] = [16, section, 1, 0, file, line, 3 << 10 | 5]
    let relocations: [UInt32] = [16, section, 1, 8, 3, access, relocationKind]
    let functionBytes = function.flatMap(btfLittleEndian)
    let lineBytes = lines.flatMap(btfLittleEndian)
    let relocationBytes = relocations.flatMap(btfLittleEndian)
    var header: [UInt8] = [0x9f, 0xeb, 1, 0] + btfLittleEndian(32)
    header += btfLittleEndian(0) + btfLittleEndian(UInt32(functionBytes.count))
    header += btfLittleEndian(UInt32(functionBytes.count)) + btfLittleEndian(UInt32(lineBytes.count))
    header += btfLittleEndian(UInt32(functionBytes.count + lineBytes.count)) + btfLittleEndian(UInt32(relocationBytes.count))
    return (b.bytes(), header + functionBytes + lineBytes + relocationBytes)
}

@Suite("BTF validation")
struct BTFValidationTests {
    @Test("The hand-built sample parses into the expected kinds")
    func btfSampleParses() throws {
        let btf = try BTF(bytes: btfSample().bytes())
        #expect(btf.count == 13)
        #expect(btf.type(3)?.kind == .structure(size: 8, members: [
            BTFMember(name: "a", nameOffset: 5, type: 1, bitOffset: 0, bitfieldSize: 0),
            BTFMember(name: "b", nameOffset: 7, type: 1, bitOffset: 32, bitfieldSize: 0),
        ]))
        #expect(btf.type(4)?.kind == .array(element: 1, index: 1, count: 4))
        #expect(btf.resolvedSize(of: 5) == 8)
        #expect(btf.resolvedSize(of: 8) == 16)
        guard case .enumeration(4, true, let values)? = btf.type(10)?.kind else {
            Issue.record("type 10 is not a signed enum")
            return
        }
        #expect(values.map(\.value) == [-1, 1])
        #expect(btf.functionProto(of: 7)?.parameters.map(\.name) == ["x", "p"])
        #expect(btf.type(11)?.kind == .declTag(type: 7, componentIndex: -1))
        let (btfBytes, extBytes) = btfExtSample()
        let ext = try BTFExt(bytes: extBytes, btf: try BTF(bytes: btfBytes))
        #expect(ext.functionInfo == [".text": [BTFFunctionInfo(instructionOffset: 0, typeID: 7)]])
        #expect(ext.lineInfo == [".text": [BTFLineInfo(instructionOffset: 0, fileName: "/src/f.c",
                                                       line: "int f(int x, pair_t p)", lineNumber: 3, column: 5)]])
        #expect(ext.coreRelocations == [".text": [BTFCoreRelocation(instructionOffset: 8, typeID: 3, accessString: "0:1",
                                                                    kind: .fieldByteOffset)]])
        #expect(ext.coreRelocations[".text"]?.first?.accessIndices == [0, 1])
    }

    /// A malformed input and the error it must produce.
    struct Case: CustomStringConvertible, Sendable {
        let description: String
        let bytes: [UInt8]
        let error: BTFError
    }

    static let headerCases: [Case] = {
        let good = btfSample().bytes()
        var cases: [Case] = []
        cases.append(Case(description: "empty input", bytes: [],
                          error: BTFError(.header, .truncatedHeader(byteCount: 0, needed: 24))))
        cases.append(Case(description: "bad magic", bytes: [0x12, 0x34] + good.dropFirst(2),
                          error: BTFError(.header, .badMagic(0x3412))))
        cases.append(Case(description: "version 2", bytes: btfSample().bytes(version: 2),
                          error: BTFError(.header, .unsupportedVersion(2))))
        cases.append(Case(description: "flags", bytes: btfSample().bytes(flags: 1),
                          error: BTFError(.header, .unsupportedFlags(1))))
        cases.append(Case(description: "header longer than data", bytes: Array(good.prefix(20)),
                          error: BTFError(.header, .headerBeyondData(hdrLen: 24, byteCount: 20))))
        cases.append(Case(description: "short hdr_len", bytes: btfSample().bytes(headerLength: 16),
                          error: BTFError(.header, .headerTooShort(hdrLen: 16, minimum: 24))))
        cases.append(Case(description: "non-zero unknown header bytes", bytes: btfSample().bytes(headerLength: 28, tail: [0, 0, 1, 0]),
                          error: BTFError(.header, .nonZeroHeaderTail(offset: 26))))
        cases.append(Case(description: "only a header", bytes: Array(good.prefix(24)), error: BTFError(.header, .noData)))
        var overlap = good
        overlap[16] = 4  // str_off 4: inside the type section
        cases.append(Case(description: "overlapping sections", bytes: overlap,
                          error: BTFError(.header, .sectionOverlap(section: "string", offset: 4))))
        var trailing = good
        trailing.append(0)
        cases.append(Case(description: "trailing bytes", bytes: trailing,
                          error: BTFError(.header, .trailingData(byteCount: 1))))
        var noTrailingNUL = good
        noTrailingNUL[noTrailingNUL.count - 1] = 0x41
        cases.append(Case(description: "string section without a final NUL", bytes: noTrailingNUL,
                          error: BTFError(.stringSection, .stringSectionMissingTrailingNUL)))
        var noLeadingNUL = good
        noLeadingNUL[24 + btfSample().typeBytes.count] = 0x41
        cases.append(Case(description: "string section not starting with NUL", bytes: noLeadingNUL,
                          error: BTFError(.stringSection, .stringSectionMissingLeadingNUL)))
        var stringsFirst = btfSample()
        stringsFirst.words = []
        cases.append(Case(description: "no types", bytes: stringsFirst.bytes(), error: BTFError(.typeSection, .noTypes)))
        return cases
    }()

    @Test("Malformed headers and string sections", arguments: headerCases)
    func btfHeaderErrors(_ testCase: Case) {
        #expect(throws: testCase.error) { try BTF(bytes: testCase.bytes) }
    }

    static let typeCases: [Case] = {
        var cases: [Case] = []
        func add(_ description: String, _ error: BTFError, _ build: (inout BTFBuilder) -> Void) {
            var b = BTFBuilder()
            build(&b)
            cases.append(Case(description: description, bytes: b.bytes(), error: error))
        }
        add("name offset out of range", BTFError(.type(1), .nameOffsetOutOfRange(999))) { b in
            b.add(1, name: 999, 4, [32])
        }
        add("type id out of range", BTFError(.type(1), .typeIDOutOfRange(7))) { b in
            b.add(2, 7)
        }
        add("type id above the maximum", BTFError(.type(1), .typeIDOutOfRange(0x100000))) { b in
            b.add(8, name: b.name("t"), 0x100000)
        }
        add("kind 0", BTFError(.type(1), .invalidKind(0))) { b in b.add(0, 0) }
        add("kind 20", BTFError(.type(1), .invalidKind(20))) { b in b.add(20, 0) }
        add("reserved info bits", BTFError(.type(1), .invalidInfo(0x0201_0000))) { b in
            b.words += [0, 0x0201_0000, 0]
            b.count += 1
        }
        add("record cut short", BTFError(.type(1), .truncatedType(needed: 16, available: 12))) { b in
            b.words += [b.name("int"), 1 << 24, 4]
            b.count += 1
        }
        add("INT wider than its size", BTFError(.type(1), .intBitsExceedSize(bits: 40, size: 4))) { b in
            _ = b.int(bits: 40)
        }
        add("INT with two encodings", BTFError(.type(1), .invalidIntEncoding(3))) { b in
            _ = b.int(encoding: 3)
        }
        add("INT with vlen", BTFError(.type(1), .nonZeroVlen(1))) { b in
            b.add(1, name: b.name("int"), vlen: 1, 4, [32])
        }
        add("named pointer", BTFError(.type(2), .nameNotAllowed("p"))) { b in
            _ = b.int()
            b.add(2, name: b.name("p"), 1)
        }
        add("CONST with kind_flag", BTFError(.type(1), .unexpectedKindFlag)) { b in
            b.add(10, kindFlag: true, 0)
        }
        add("anonymous typedef", BTFError(.type(2), .missingName)) { b in
            _ = b.int()
            b.add(8, 1)
        }
        add("typedef named with a space", BTFError(.type(2), .invalidName("my int"))) { b in
            _ = b.int()
            b.add(8, name: b.name("my int"), 1)
        }
        add("array of void", BTFError(.type(2), .voidNotAllowed(what: "array element type"))) { b in
            _ = b.int()
            b.add(3, 0, [0, 1, 2])
        }
        add("member offset beyond struct size", BTFError(.component(type: 2, index: 1),
                                                          .memberOffsetBeyondStruct(bitOffset: 72, structSize: 8))) { b in
            let int = b.int()
            _ = b.structure("s", size: 8, [("a", int, 0), ("b", int, 72)])
        }
        add("member reaching past the struct", BTFError(.component(type: 2, index: 1),
                                                         .memberExceedsStruct(bitOffset: 48, bits: 32, structSize: 8))) { b in
            let int = b.int()
            _ = b.structure("s", size: 8, [("a", int, 0), ("b", int, 48)])
        }
        add("members out of order", BTFError(.component(type: 2, index: 1),
                                              .memberOffsetDecreasing(bitOffset: 0, previous: 32))) { b in
            let int = b.int()
            _ = b.structure("s", size: 8, [("a", int, 32), ("b", int, 0)])
        }
        add("union member at an offset", BTFError(.component(type: 2, index: 0), .unionMemberOffsetNotZero(bitOffset: 8))) { b in
            let int = b.int()
            _ = b.structure("u", size: 8, [("a", int, 8)], union: true)
        }
        add("bitfield wider than its int", BTFError(.component(type: 2, index: 0), .invalidBitfieldSize(40))) { b in
            let int = b.int()
            _ = b.structure("s", size: 8, [("a", int, 40 << 24)], kindFlag: true)
        }
        add("unaligned pointer member", BTFError(.component(type: 3, index: 0), .memberNotByteAligned(bitOffset: 4))) { b in
            _ = b.int()
            let ptr = b.add(2, 1)
            _ = b.structure("s", size: 16, [("p", ptr, 4)])
        }
        add("struct containing itself", BTFError(.type(2), .loopDetected)) { b in
            let int = b.int()
            _ = b.structure("s", size: 8, [("a", int, 0), ("self", 2, 32)])
        }
        add("typedef loop A -> B -> A", BTFError(.type(1), .loopDetected)) { b in
            b.add(8, name: b.name("A"), 2)
            b.add(8, name: b.name("B"), 1)
        }
        add("pointer loop through const", BTFError(.type(1), .loopDetected)) { b in
            b.add(2, 2)
            b.add(10, 1)
        }
        add("struct loop through an array", BTFError(.type(1), .loopDetected)) { b in
            _ = b.structure("s", size: 16, [("arr", 2, 0)])
            b.add(3, 0, [1, 3, 2])
            _ = b.int()
        }
        add("FUNC whose type is not a FUNC_PROTO", BTFError(.type(2), .invalidReference(what: "FUNC prototype", id: 1, kind: "INT"))) { b in
            _ = b.int()
            b.add(12, name: b.name("f"), vlen: 1, 1)
        }
        add("FUNC with an unnamed parameter", BTFError(.type(3), .invalidParameter(index: 0, detail: "a function's parameters must be named"))) { b in
            _ = b.int()
            b.add(13, vlen: 1, 1, [0, 1])
            b.add(12, name: b.name("f"), vlen: 1, 2)
        }
        add("FUNC with linkage 3", BTFError(.type(1), .invalidLinkage(3))) { b in
            b.add(12, name: b.name("f"), vlen: 3, 0)
        }
        add("varargs marker in the middle", BTFError(.type(2), .invalidParameter(index: 0, detail: "type [0] has no size"))) { b in
            _ = b.int()
            b.add(13, vlen: 2, 1, [0, 0, 0, 1])
        }
        add("parameter passing a FUNC_PROTO by value", BTFError(.type(2), .invalidParameter(index: 0, detail: "type [2] has no size"))) { b in
            _ = b.int()
            b.add(13, vlen: 1, 1, [b.name("x"), 2])
        }
        add("enum of 3 bytes", BTFError(.type(1), .invalidSize(3, allowed: "1, 2, 4 or 8"))) { b in
            b.add(6, name: b.name("e"), 3)
        }
        add("anonymous enumerator", BTFError(.component(type: 1, index: 0), .missingName)) { b in
            b.add(6, name: b.name("e"), vlen: 1, 4, [0, 1])
        }
        add("FLOAT of 3 bytes", BTFError(.type(1), .invalidSize(3, allowed: "2, 4, 8, 12 or 16"))) { b in
            b.add(16, name: b.name("float"), 3)
        }
        add("VAR of void", BTFError(.type(1), .voidNotAllowed(what: "variable type"))) { b in
            b.add(14, name: b.name("v"), 0, [1])
        }
        add("VAR with linkage 7", BTFError(.type(2), .invalidLinkage(7))) { b in
            _ = b.int()
            b.add(14, name: b.name("v"), 1, [7])
        }
        add("VAR of a FWD", BTFError(.type(2), .unsizedType(1))) { b in
            b.add(7, name: b.name("opaque"), 0)
            b.add(14, name: b.name("v"), 1, [1])
        }
        add("DATASEC entries overlapping", BTFError(.component(type: 4, index: 1),
                                                     .invalidSectionEntry(offset: 2, size: 4, sectionSize: 8))) { b in
            _ = b.int()
            b.add(14, name: b.name("a"), 1, [1])
            b.add(14, name: b.name("b"), 1, [1])
            b.add(15, name: b.name(".data"), vlen: 2, 8, [2, 0, 4, 3, 2, 4])
        }
        add("DATASEC entry that is not a VAR", BTFError(.component(type: 2, index: 0),
                                                         .invalidReference(what: "DATASEC entry", id: 1, kind: "INT"))) { b in
            _ = b.int()
            b.add(15, name: b.name(".data"), vlen: 1, 0, [1, 0, 4])
        }
        add("DATASEC entry smaller than its variable", BTFError(.component(type: 3, index: 0),
                                                                 .sectionEntryTooSmall(size: 2, typeSize: 4))) { b in
            _ = b.int()
            b.add(14, name: b.name("a"), 1, [1])
            b.add(15, name: b.name(".data"), vlen: 1, 0, [2, 0, 2])
        }
        add("DECL_TAG component past the members", BTFError(.type(3), .invalidComponentIndex(2))) { b in
            let int = b.int()
            _ = b.structure("s", size: 4, [("a", int, 0)])
            b.add(17, name: b.name("t"), 2, [2])
        }
        add("DECL_TAG on an INT", BTFError(.type(2), .invalidReference(what: "tagged type", id: 1, kind: "INT"))) { b in
            _ = b.int()
            b.add(17, name: b.name("t"), 1, [UInt32(bitPattern: -1)])
        }
        add("TYPE_TAG after const", BTFError(.type(3), .typeTagAfterModifier)) { b in
            _ = b.int()
            b.add(18, name: b.name("user"), 1)
            b.add(10, 2)
        }
        add("a chain of 40 typedefs in forward order", BTFError(.type(1), .resolveDepthExceeded)) { b in
            for index in 1...40 { b.add(8, name: b.name("t\(index)"), UInt32(index + 1)) }
            _ = b.int()
        }
        return cases
    }()

    @Test("Malformed types", arguments: typeCases)
    func btfTypeErrors(_ testCase: Case) {
        #expect(throws: testCase.error) { try BTF(bytes: testCase.bytes) }
    }

    @Test("Valid corner cases: self-referencing lists, backward chains, externs, unfixed DATASECs")
    func btfValidCorners() throws {
        var b = BTFBuilder()
        let int = b.int()                                                    // 1
        _ = b.structure("node", size: 16, [("v", int, 0), ("next", 3, 64)])  // 2
        b.add(2, 2)                                                          // 3: struct node *
        var previous: UInt32 = 1
        for index in 1...100 { previous = b.add(8, name: b.name("chain\(index)"), previous) }  // 4...103
        let fwd = b.add(7, name: b.name("rq"), 0)                            // 104
        let constFwd = b.add(10, fwd)                                        // 105
        let externVar = b.add(14, name: b.name("runqueues"), constFwd, [2])  // 106
        let kfuncProto = b.add(13, vlen: 1, int, [0, int])                   // 107 (unnamed parameter)
        let kfunc = b.add(12, name: b.name("bpf_kfunc"), vlen: 2, kfuncProto)  // 108 (extern)
        let global = b.add(14, name: b.name("g"), int, [1])                  // 109
        b.add(15, name: b.name(".ksyms"), vlen: 2, 0, [externVar, 0, 0, kfunc, 0, 0])
        b.add(15, name: b.name(".data"), vlen: 1, 0, [global, 0, 4])
        b.add(16, name: b.name("long double"), 16)
        b.add(1, name: b.name("__int128"), 16, [1 << 24 | 128])
        let btf = try BTF(bytes: b.bytes())
        #expect(btf.resolvedSize(of: 103) == 4)
        #expect(btf.skippingModifiersAndTypedefs(103) == 1)
        #expect(btf.resolvedSize(of: 2) == 16)
        #expect(btf.type(106)?.kind == .variable(type: 105, linkage: .external))
        #expect(btf.type(108)?.kind == .function(proto: 107, linkage: .external))
        #expect(btf.firstType(named: "chain100")?.id == 103)
    }

    @Test("Names adding up to far more than the input fail fast instead of taking quadratic time")
    func btfNamesBudget() {
        var b = BTFBuilder()
        let long = b.name(String(repeating: "a", count: 200_000))
        for index in 0..<20_000 { b.add(1, name: long + UInt32(index), 4, [32]) }
        #expect(throws: BTFError(.stringSection, .namesTooLarge)) { try BTF(bytes: b.bytes()) }
        var same = BTFBuilder()
        let tag = same.name(String(repeating: "t", count: 100_000))
        _ = same.int()
        for _ in 0..<50_000 { same.add(18, name: tag, 1) }
        #expect(throws: BTFError(.stringSection, .namesTooLarge)) { try BTF(bytes: same.bytes()) }
    }

    @Test("Many FUNCs sharing one long prototype are checked in linear time")
    func btfSharedPrototype() throws {
        var b = BTFBuilder()
        let int = b.int()
        let x = b.name("x")
        let proto = b.add(13, vlen: 60_000, int, [UInt32]((0..<60_000).flatMap { _ in [x, int] }))
        for index in 0..<20_000 { b.add(12, name: b.name("f\(index)"), vlen: 1, proto) }
        let btf = try BTF(bytes: b.bytes())
        #expect(btf.count == 20_003)
    }
}

@Suite("BTF.ext validation")
struct BTFExtValidationTests {
    struct Case: CustomStringConvertible, Sendable {
        let description: String
        let btf: [UInt8]
        let ext: [UInt8]
        let error: BTFError
    }

    static let cases: [Case] = {
        var cases: [Case] = []
        func add(_ description: String, _ sample: (btf: [UInt8], ext: [UInt8]), _ error: BTFError,
                 patch: (inout [UInt8]) -> Void = { _ in }) {
            var ext = sample.ext
            patch(&ext)
            cases.append(Case(description: description, btf: sample.btf, ext: ext, error: error))
        }
        add("bad magic", btfExtSample(), BTFError(.extHeader, .badMagic(0x0000))) { $0[0] = 0; $0[1] = 0 }
        add("version 2", btfExtSample(), BTFError(.extHeader, .unsupportedVersion(2))) { $0[2] = 2 }
        add("header too short", btfExtSample(), BTFError(.extHeader, .headerTooShort(hdrLen: 20, minimum: 24))) { $0[4] = 20 }
        add("header only", btfExtSample(), BTFError(.extHeader, .noData)) { $0.removeSubrange(32...) }
        add("record size too small", btfExtSample(functionRecordSize: 4),
            BTFError(.extSubsection(.functionInfo), .invalidRecordSize(4, minimum: 8)))
        add("record size not a multiple of 4", btfExtSample(), BTFError(.extSubsection(.lineInfo), .invalidRecordSize(18, minimum: 16))) {
            $0[32 + 20] = 18
        }
        add("zero records", btfExtSample(functionCount: 0), BTFError(.extSubsection(.functionInfo), .zeroRecords(section: ".text")))
        add("records past the sub-section", btfExtSample(), BTFError(.extSubsection(.functionInfo), .recordsBeyondEnd(section: ".text", count: 2))) {
            $0[32 + 8] = 2
        }
        add("sub-section past the data", btfExtSample(), BTFError(.extSubsection(.coreRelocation),
                                                                  .sectionOutOfBounds(section: "core_relo", offset: 48, length: 255, available: 76))) {
            $0[28] = 255
        }
        add("function info naming an INT", btfExtSample(functionType: 1),
            BTFError(.extRecord(.functionInfo, index: 0), .invalidReference(what: "function info type", id: 1, kind: "INT")))
        add("function info naming a missing type", btfExtSample(functionType: 99),
            BTFError(.extRecord(.functionInfo, index: 0), .typeIDOutOfRange(99)))
        add("section name out of range", btfExtSample(sectionName: 5000),
            BTFError(.extRecord(.functionInfo, index: 0), .stringOffsetOutOfRange(what: "section name", offset: 5000)))
        add("unaligned instruction offset", btfExtSample(instructionOffset: 4),
            BTFError(.extRecord(.functionInfo, index: 0), .unalignedInstructionOffset(4)))
        add("functions out of order", btfExtSample(functionCount: 2), BTFError(.extRecord(.functionInfo, index: 1),
                                                                               .functionOffsetsNotIncreasing(offset: 0, previous: 0))) {
            $0[32 + 12 + 8] = 0
        }
        add("CO-RE kind 13", btfExtSample(relocationKind: 13),
            BTFError(.extRecord(.coreRelocation, index: 0), .invalidRelocationKind(13)))
        add("access string with a letter", btfExtSample(accessString: "0:a"),
            BTFError(.extRecord(.coreRelocation, index: 0), .invalidAccessString("0:a")))
        add("empty access string component", btfExtSample(accessString: "0::1"),
            BTFError(.extRecord(.coreRelocation, index: 0), .invalidAccessString("0::1")))
        return cases
    }()

    @Test("Malformed .BTF.ext", arguments: cases)
    func btfExtErrors(_ testCase: Case) throws {
        let btf = try BTF(bytes: testCase.btf)
        #expect(throws: testCase.error) { try BTFExt(bytes: testCase.ext, btf: btf) }
    }

    @Test("Larger record sizes (newer formats) step over the extra fields")
    func btfExtLargerRecords() throws {
        let (btfBytes, extBytes) = btfExtSample(functionRecordSize: 16, functionCount: 3)
        let ext = try BTFExt(bytes: extBytes, btf: try BTF(bytes: btfBytes))
        #expect(ext.functionInfo[".text"]?.map(\.instructionOffset) == [0, 8, 16])
    }
}

// MARK: - Robustness

/// A deterministic xorshift generator, so failures reproduce.
private struct BTFRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

@Suite("BTF robustness")
struct BTFRobustnessTests {
    /// Parses mutations of `btf` and `ext`: every one must return or throw, never trap or hang.
    static func hammer(btf: [UInt8], ext: [UInt8], rounds: Int, seed: UInt64) {
        var random = BTFRandom(state: seed)
        let good = try? BTF(bytes: btf)
        for length in 0..<btf.count { _ = try? BTF(bytes: Array(btf.prefix(length))) }
        if let good { for length in 0..<ext.count { _ = try? BTFExt(bytes: Array(ext.prefix(length)), btf: good) } }
        for _ in 0..<rounds {
            var mutated = btf
            for _ in 0...random.below(4) {
                let index = random.below(mutated.count)
                switch random.below(4) {
                case 0: mutated[index] = UInt8(truncatingIfNeeded: random.next())
                case 1: mutated[index] ^= 1 << UInt8(random.below(8))
                case 2: mutated[index] = [0, 0xff, 0x80, 0x7f, 1][random.below(5)]
                default: mutated[index] = UInt8(random.below(20))
                }
            }
            if let parsed = try? BTF(bytes: mutated) {
                for type in parsed.types.prefix(64) {
                    _ = parsed.resolvedSize(of: type.id)
                    _ = parsed.skippingModifiersAndTypedefs(type.id)
                    _ = parsed.member(named: "a", in: type.id)
                }
                _ = try? BTFExt(bytes: ext, btf: parsed)
            }
            if let good {
                var mutatedExt = ext
                let index = random.below(mutatedExt.count)
                mutatedExt[index] = UInt8(truncatingIfNeeded: random.next())
                _ = try? BTFExt(bytes: mutatedExt, btf: good)
            }
        }
    }

    @Test("Mutated hand-built BTF and BTF.ext never trap")
    func btfMutatedSample() {
        let (btf, ext) = btfExtSample()
        Self.hammer(btf: btf, ext: ext, rounds: 20_000, seed: 0x9e37_79b9_7f4a_7c15)
    }

    @Test("Mutated compiled BTF never traps", .enabled(if: BTFFixtures.toolsAvailable, "needs clang and llvm-objcopy"),
          arguments: ["btf_aggregates.c", "btf_core.c", "btf_tags.c"])
    func btfMutatedObject(_ name: String) throws {
        let object = try BTFFixtures.object(name)
        let btf = try #require(try BTFFixtures.section(".BTF", of: object))
        let ext = try #require(try BTFFixtures.section(".BTF.ext", of: object))
        Self.hammer(btf: btf, ext: ext, rounds: 3_000, seed: UInt64(name.utf8.count) &* 0x2545_f491_4f6c_dd1d)
    }
}
