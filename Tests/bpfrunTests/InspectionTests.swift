import Foundation
import Testing
import TestSupport

/// The objects of Objects/*.c, written in the style of libbpf tools (perf buffers, stack maps,
/// cgroup filters, map-in-map, legacy maps, ksyms, freplace, map_extra, kernel-only sections, tail
/// calls), compiled once into .build/test-fixtures/inspection, and the tools that judge bpfrun's
/// output on them.
enum InspectionObjects {
    static let clang = "/opt/swift/usr/bin/clang"
    static let objdump = "/opt/swift/usr/bin/llvm-objdump"
    static let objcopy = "/opt/swift/usr/bin/llvm-objcopy"
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Objects")

    static var toolsAvailable: Bool {
        CLI.bpftool != nil && [clang, objdump, objcopy].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".c") }.map { String($0.dropLast(2)) }.sorted()

    /// The object compiled from Objects/NAME.c as libbpf tools build theirs (BPF_KPROBE needs the target arch).
    static func object(_ name: String) throws -> URL {
        try CompiledFixtures.object(
            compiling: directory.appendingPathComponent(name + ".c"), clang: clang,
            arguments: ["-O2", "-g", "-target", "bpf", "-D__TARGET_ARCH_x86", "-I/usr/include/x86_64-linux-gnu"],
            folder: "inspection")
    }

    /// The output of `tool arguments`, which must succeed.
    static func output(of tool: String, _ arguments: [String]) throws -> String {
        let result = try CLI.run(arguments, executable: tool)
        try #require(result.status == 0, "\(tool) \(arguments) failed: \(result.stderr)")
        return result.stdout
    }

    /// `llvm-objdump -d --no-show-raw-insn`: per function symbol, its instructions by slot from the function's start.
    static func disassembly(_ object: URL) throws -> [String: [Int: String]] {
        var functions: [String: [Int: String]] = [:]
        var current: String?
        var start = 0
        for line in try output(of: objdump, ["-d", "--no-show-raw-insn", object.path]).split(separator: "\n") {
            if line.hasSuffix(">:"), let open = line.firstIndex(of: "<") {
                current = String(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)])
                start = -1
            } else if let current, let colon = line.firstIndex(of: ":"),
                      let slot = Int(line[..<colon].trimmingCharacters(in: .whitespaces))
            {
                if start < 0 { start = slot }
                var text = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                if let annotation = text.range(of: " <", options: .backwards), text.hasSuffix(">") {
                    text = String(text[..<annotation.lowerBound])
                }
                functions[current, default: [:]][slot - start] = text
            }
        }
        return functions
    }
}

/// What `bpfrun inspect` must say about one object: each map's kernel type name, and for each
/// program whether it runs here, or a part of the reason it does not.
struct InspectionExpectation: CustomTestStringConvertible, Sendable {
    enum Verdict: Sendable {
        case runs
        case cannotRun(String)
        case doesNotLink(String)
    }

    let object: String
    let maps: [(name: String, type: String)]
    let programs: [(name: String, section: String, verdict: Verdict)]
    var testDescription: String { object }

    static let notImplemented = "is not a map type this runtime implements"
    static let legacy = "legacy map definitions (section 'maps') are not supported"

    static let all: [InspectionExpectation] = [
        InspectionExpectation(
            object: "cgroup_filter",
            maps: [("cgroup_map", "cgroup_array"), ("counts", "hash")],
            programs: [
                ("do_sys_openat2", "kprobe/do_sys_openat2", .runs),
                ("do_sys_openat2_all", "kprobe/do_sys_openat2", .runs),
            ]),
        InspectionExpectation(
            object: "execsnoop_perf",
            maps: [("scratch", "percpu_array"), ("execs", "hash"), ("events", "perf_event_array")],
            programs: [
                ("tracepoint__syscalls__sys_enter_execve", "tp/syscalls/sys_enter_execve", .runs),
                ("tracepoint__syscalls__sys_exit_execve", "tp/syscalls/sys_exit_execve", .runs),
            ]),
        InspectionExpectation(
            object: "freplace_target", maps: [],
            programs: [
                ("xdp_main", "xdp", .runs),
                ("new_verdict", "freplace/verdict", .cannotRun("freplace programs replace a function of a BPF program")),
            ]),
        InspectionExpectation(
            object: "kernel_only", maps: [],
            programs: [
                ("xdp_pass", "xdp", .runs), ("tc_mark", "tc", .runs), ("optional_filter", "?socket", .runs),
                ("select_socket", "sk_reuseport", .cannotRun("sk_reuseport programs pick a socket")),
                ("decode_remote", "lirc_mode2", .cannotRun("in the kernel's LIRC driver")),
                ("trace_vfs", "kprobe.multi/vfs_*", .cannotRun("multi-kprobe programs")),
                ("restrict_bind", "lsm_cgroup/socket_bind", .cannotRun("lsm_cgroup programs run on kernel LSM hooks")),
                ("writable", "raw_tp.w/bpf_testmod_test_writable_bare", .cannotRun("writable raw tracepoints")),
                ("retargetable", "fentry", .cannotRun("'fentry' names no hook")),
                ("mystery", "custom/unknown", .cannotRun("not a program section libbpf recognises")),
            ]),
        InspectionExpectation(
            object: "ksym_externs", maps: [],
            programs: [
                ("handler", "raw_tp/sys_enter", .doesNotLink("extern 'runqueues' (variable __ksym) is not resolved")),
                ("plain", "raw_tp/sys_exit", .runs),
            ]),
        InspectionExpectation(
            object: "legacy_maps",
            maps: [("packets", "array"), ("proto_count", "array"), ("flows", "lru_hash")],
            programs: [
                ("bpf_prog1", "socket", .cannotRun("map 'proto_count': \(legacy)")),
                ("count_packets", "socket", .runs),
            ]),
        InspectionExpectation(
            object: "map_extra",
            maps: [("bloom", "bloom_filter"), ("values", "hash"), ("arena", "arena")],
            programs: [
                ("bloom_lookup", "socket", .cannotRun("map 'bloom': bloom_filter \(notImplemented)")),
                ("hash_only", "socket", .runs),
            ]),
        InspectionExpectation(
            object: "map_in_map",
            maps: [("tenant_a", "hash"), ("tenant_b", "hash"), ("tenants", "array_of_maps"),
                   ("port_counters", "hash_of_maps")],
            programs: [
                ("tenant_filter", "socket", .runs), ("port_count", "socket", .runs),
            ]),
        InspectionExpectation(
            object: "profile_stacks",
            maps: [("stackmap", "stack_trace"), ("counts", "hash")],
            programs: [("do_perf_event", "perf_event", .runs)]),
        InspectionExpectation(
            object: "tail_dispatch",
            maps: [("stages", "prog_array"), ("events", "perf_event_array"), ("results", "array")],
            programs: [
                ("parse_l4", "socket", .runs), ("parse_l3", "socket", .runs), ("parse_l2", "socket", .runs),
                ("report", "socket", .runs),
                ("future", "socket", .cannotRun("instruction 0: call to unknown helper 9999")),
                ("replacement", "freplace/parse_l2", .cannotRun("freplace programs replace")),
            ]),
    ]
}

/// A message that names its location once: no `: `-separated part repeats the one before it
/// ("instruction 70: instruction 70: ..."), and no instruction is named twice.
func expectLocationOnce(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let parts = message.split(separator: ": ").map(String.init)
    for (first, second) in zip(parts, parts.dropFirst()) {
        #expect(first != second, "'\(first)' repeats in: \(message)", sourceLocation: sourceLocation)
    }
    #expect(message.matches(of: /instruction \d+:/).count <= 1, "\(message)", sourceLocation: sourceLocation)
    #expect(message.matches(of: /program '[^']*'/).count <= 1, "\(message)", sourceLocation: sourceLocation)
}

@Suite("Inspecting objects this runtime cannot (all) run", .serialized,
       .enabled(if: CLI.isBuilt, "the bpfrun executable was not built next to the tests"),
       .enabled(if: InspectionObjects.toolsAvailable, "needs bpftool and clang, llvm-objdump, llvm-objcopy in /opt/swift/usr/bin"))
struct InspectionTests {
    @Test("every object of Objects/ has its expectations")
    func everyObjectExpected() {
        #expect(InspectionObjects.names == InspectionExpectation.all.map(\.object).sorted())
    }

    @Test("inspect lists every map by its kernel type name and every program, with why it cannot run",
          arguments: InspectionExpectation.all)
    func inspect(_ expectation: InspectionExpectation) throws {
        let object = try InspectionObjects.object(expectation.object)
        let output = try CLI.run(["inspect", object.path])
        #expect(output.status == 0, "\(output.stderr)")
        let lines = output.stdout.split(separator: "\n").map(String.init)
        for (name, type) in expectation.maps {
            #expect(lines.contains { $0.hasPrefix("  \(name)  \(type)  key ") }, "map \(name) \(type) in:\n\(output.stdout)")
        }
        #expect(output.stdout.matches(of: /map type \d/).isEmpty, "maps are named by their kernel names")
        for (name, section, verdict) in expectation.programs {
            let line = try #require(lines.first { $0.hasPrefix("  \(name)  section \(section)  ") },
                                    "program \(name) in:\n\(output.stdout)")
            switch verdict {
            case .runs:
                #expect(line.hasSuffix(" insns"), "\(line)")
            case .cannotRun(let reason):
                #expect(line.contains(" insns  cannot run here: ") && line.contains(reason), "\(line)")
            case .doesNotLink(let reason):
                #expect(line.contains("  does not link: ") && line.contains(reason), "\(line)")
            }
            expectLocationOnce(line)
        }
    }

    @Test("btf prints the object's BTF exactly as bpftool does, raw, C and JSON",
          arguments: InspectionObjects.names)
    func btf(_ name: String) throws {
        let object = try InspectionObjects.object(name)
        try expectBTFLikeBpftool(object.path)
    }

    @Test("a raw BTF file (the object's .BTF alone) is dumped as bpftool dumps it", arguments: InspectionObjects.names)
    func rawBTFFile(_ name: String) throws {
        let object = try InspectionObjects.object(name)
        try TemporaryDirectory.with("inspection-tests") { directory in
            let raw = directory.file("\(name).btf")
            _ = try InspectionObjects.output(of: InspectionObjects.objcopy, [
                "--dump-section", ".BTF=\(raw.path)", object.path, directory.file("copy.o").path])
            try expectBTFLikeBpftool(raw.path)
        }
    }

    @Test("the running kernel's BTF (a raw file) is dumped as bpftool dumps it",
          .enabled(if: FileManager.default.isReadableFile(atPath: "/sys/kernel/btf/vmlinux"), "no /sys/kernel/btf/vmlinux"))
    func kernelBTF() throws {
        try expectBTFLikeBpftool("/sys/kernel/btf/vmlinux")
    }

    private func expectBTFLikeBpftool(_ path: String) throws {
        let bpftool = try #require(CLI.bpftool)
        for (format, arguments) in [("raw", ["btf", "dump", "file", path]), ("c", ["btf", "dump", "file", path, "format", "c"]),
                                    ("json", ["-j", "btf", "dump", "file", path])] {
            let expected = try InspectionObjects.output(of: bpftool, arguments)
            let got = try CLI.run(["btf", path, "--format", format])
            #expect(got.status == 0, "\(got.stderr)")
            #expect(got.stdout == expected, "\(path) \(format) differs from bpftool")
        }
    }

    @Test("dump prints every program that links, its instructions as llvm-objdump prints them",
          arguments: InspectionExpectation.all)
    func dump(_ expectation: InspectionExpectation) throws {
        let object = try InspectionObjects.object(expectation.object)
        let disassembly = try InspectionObjects.disassembly(object)
        for (name, _, verdict) in expectation.programs {
            let output = try CLI.run(["dump", object.path, "--prog", name])
            if case .doesNotLink(let reason) = verdict {
                #expect(output.status == 1 && output.stderr.contains(reason), "\(output.stderr)")
                expectLocationOnce(output.stderr)
                continue
            }
            #expect(output.status == 0, "\(name): \(output.stderr)")
            let original = try #require(disassembly[name], "\(name) not in llvm-objdump's output")
            var instructions: [Int: String] = [:]
            for line in output.stdout.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":"), let index = Int(line[..<colon].trimmingCharacters(in: .whitespaces))
                else { continue }
                instructions[index] = String(line[line.index(colon, offsetBy: 2)...])
            }
            // The entry function comes first; lddw and calls are what the linker rewrites.
            for (index, text) in original where !text.hasSuffix(" ll") && !text.hasPrefix("call ") {
                #expect(instructions[index] == text, "\(expectation.object) \(name) instruction \(index)")
            }
        }
    }

    /// One program run next to siblings this runtime cannot run.
    struct RunCase: CustomTestStringConvertible, Sendable {
        let object: String
        let program: String
        let arguments: [String]
        let result: Result<String, Failure>
        var testDescription: String { "\(object) \(program)" }

        /// Part of the message of a run that must fail.
        struct Failure: Error, Sendable {
            let message: String
        }

        static let skb = ["--mem", String(repeating: "00", count: 192)]
        static let cases: [RunCase] = [
            // parse_l2 tail-calls parse_l3 (slot 1), which tail-calls parse_l4 (slot 2): record(2, len 0) = 200.
            RunCase(object: "tail_dispatch", program: "parse_l2", arguments: skb, result: .success("r0 = 200 (0xc8)")),
            RunCase(object: "tail_dispatch", program: "parse_l4", arguments: skb, result: .success("r0 = 200 (0xc8)")),
            RunCase(object: "tail_dispatch", program: "report", arguments: skb, result: .success("r0 = 0 (0x0)")),
            RunCase(object: "tail_dispatch", program: "future", arguments: skb, result: .failure(Failure(message:
                "program 'future', instruction 0: call to unknown helper 9999"))),
            RunCase(object: "tail_dispatch", program: "replacement", arguments: skb, result: .failure(Failure(message:
                "program 'replacement' (section 'freplace/parse_l2'): freplace programs replace"))),
            RunCase(object: "legacy_maps", program: "count_packets", arguments: skb, result: .success("r0 = 0 (0x0)")),
            RunCase(object: "legacy_maps", program: "bpf_prog1", arguments: skb, result: .failure(Failure(message:
                "program 'bpf_prog1', instruction 8: map 'proto_count': legacy map definitions"))),
            RunCase(object: "map_extra", program: "hash_only", arguments: skb, result: .success("r0 = 1 (0x1)")),
            RunCase(object: "cgroup_filter", program: "do_sys_openat2_all", arguments: ["--mem", String(repeating: "00", count: 168)],
                    result: .success("r0 = 0 (0x0)")),
            RunCase(object: "freplace_target", program: "xdp_main", arguments: ["--mem", String(repeating: "00", count: 20)],
                    result: .success("r0 = 2 (0x2)")),
            RunCase(object: "kernel_only", program: "tc_mark", arguments: skb, result: .success("r0 = 0 (0x0)")),
            RunCase(object: "ksym_externs", program: "plain", arguments: [], result: .success("r0 = 0 (0x0)")),
            RunCase(object: "execsnoop_perf", program: "tracepoint__syscalls__sys_enter_execve",
                    arguments: ["--mem", String(repeating: "00", count: 64)], result: .success("r0 = 0 (0x0)")),
        ]
    }

    @Test("run --prog A links and loads only A and what it reaches; its siblings' problems do not matter",
          arguments: RunCase.cases)
    func runBesideBrokenSiblings(_ run: RunCase) throws {
        let object = try InspectionObjects.object(run.object)
        let output = try CLI.run(["run", object.path, "--prog", run.program] + run.arguments)
        switch run.result {
        case .success(let firstLine):
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout.split(separator: "\n").first.map(String.init) == firstLine, "\(output.stdout)")
        case .failure(let failure):
            #expect(output.status == 1)
            #expect(output.stderr.hasPrefix("bpfrun: \(object.path): \(failure.message)"), "\(output.stderr)")
            expectLocationOnce(output.stderr)
        }
    }
}
