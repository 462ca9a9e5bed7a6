import Foundation
import Testing
import TestSupport

/// Runs the `bpfrun` executable built next to the test bundle.
enum CLI {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("bpfrun")
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let progs = repository.appendingPathComponent("progs/build")
    static let isBuilt = FileManager.default.isExecutableFile(atPath: binary.path)
    static let bpftool: String? = ["/usr/sbin/bpftool", "/usr/bin/bpftool"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static let objects: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: progs.path)) ?? [])
        .filter { $0.hasSuffix(".o") }.sorted()

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String], executable: String = binary.path) throws -> Output {
        let result = try ToolRun(executable, arguments, in: repository)
        return Output(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}

/// Whether `dump --jited` can disassemble (llvm-objdump and llvm-objcopy next to clang or on PATH).
enum MachineCode {
    static let llvmObjdump = ["llvm-objdump", "llvm-objcopy"].allSatisfy { tool in
        (["/opt/swift/usr/bin"] + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init))
            .contains { FileManager.default.isExecutableFile(atPath: $0 + "/" + tool) }
    }
}

/// One wrong invocation: the exit status and the one line bpfrun must print on stderr.
struct BadInvocation: CustomTestStringConvertible, Sendable {
    let arguments: [String]
    let status: Int32
    let stderr: String
    var testDescription: String { arguments.joined(separator: " ") }

    /// ArgumentParser's exit status for a usage error (EX_USAGE).
    static let usage: Int32 = 64

    init(_ arguments: [String], _ status: Int32, _ stderr: String) {
        self.arguments = arguments
        self.status = status
        self.stderr = stderr + "\n"
    }

    /// Invocations whose files all ship with the repository.
    static let repositoryFiles: [BadInvocation] = [
        BadInvocation(["run"], usage, "bpfrun: Missing expected argument '<file>'"),
        BadInvocation(["frobnicate"], usage, "bpfrun: Unexpected argument 'frobnicate'"),
        BadInvocation(["run", "no-such-file"], 1, "bpfrun: no-such-file: no such file"),
        // Text that is not assembly; the first line of Package.swift is always `// swift-tools-version: ...`.
        BadInvocation(["run", "Package.swift"], 1, "bpfrun: Package.swift: line 1, column 1: unknown mnemonic '//'"),
        BadInvocation(["run", "examples"], 1, "bpfrun: examples is a folder, not a file"),
        BadInvocation(["run", "examples/sum.s", "--mem", "zz"], 1, "bpfrun: --mem: 'zz' is not a hex byte"),
        BadInvocation(["run", "examples/sum.s", "--mem", "00", "--ctx-args", "1"], usage,
                      "bpfrun: give at most one of --mem, --mem-file and --ctx-args"),
        BadInvocation(["run", "examples/sum.s", "--bogus"], usage, "bpfrun: Unknown option '--bogus'"),
        BadInvocation(["disasm", "examples/sum.s", "--syntax", "intel"], usage,
                      "bpfrun: The value 'intel' is invalid for '--syntax <syntax>'. Please provide one of 'llvm' and 'conformance'."),
        BadInvocation(["inspect", "README.md"], 1,
                      "bpfrun: README.md: ELF header: not an ELF file (the first 4 bytes are not \\x7fELF)"),
        BadInvocation(["asm", "examples/sum.s", "-o", "examples/sum.s"], 1,
                      "bpfrun: -o examples/sum.s would overwrite the input file"),
        BadInvocation(["conformance", "README.md"], 1, "bpfrun: README.md is not a folder"),
        BadInvocation(["run", "examples/sum.s", "--checked", "--jit"], usage,
                      "bpfrun: --checked runs unverified programs in the interpreter; the JIT compiles only verified programs"),
        BadInvocation(["run", "examples/sum.s", "--repeat", "0"], usage, "bpfrun: --repeat takes a count of at least 1"),
        BadInvocation(["bench", "--rounds", "0"], usage, "bpfrun: --rounds must be at least 1"),
        BadInvocation(["bench", "--objects", "no-such-folder"], 1,
                      "bpfrun: no-such-folder/fnv1a.o: cannot open it (No such file or directory); run `make -C progs`"),
    ]

    /// Invocations on the objects of progs/build.
    static let progsObjects: [BadInvocation] = [
        BadInvocation(["dump", "progs/build/lsm_policy.o"], 1,
                      "bpfrun: progs/build/lsm_policy.o: the object has 2 programs; choose one with --prog "
                        + "(restrict_file_permission, protect_init)"),
        BadInvocation(["dump", "progs/build/lsm_policy.o", "--prog", "nope"], 1,
                      "bpfrun: progs/build/lsm_policy.o: no program named 'nope' (programs: restrict_file_permission, protect_init)"),
        BadInvocation(["btf", "progs/build/hash_counter.o", "--format", "yaml"], usage,
                      "bpfrun: The value 'yaml' is invalid for '--format <format>'. Please provide one of 'raw', 'c' or 'json'."),
        BadInvocation(["run", "progs/build/hash_counter.o", "--ctx-args", "x"], 1,
                      "bpfrun: --ctx-args: 'x' is not a 64-bit number"),
    ]
}

/// The output of `bpfrun run`: every line exactly, then a last line `time: N unit` whose number
/// varies from run to run and is checked for its form only.
private func expectRunOutput(_ output: CLI.Output, lines expected: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(output.status == 0, "stderr: \(output.stderr)", sourceLocation: sourceLocation)
    #expect(output.stderr.isEmpty, sourceLocation: sourceLocation)
    var lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines.popLast() == "", "stdout must end with a newline", sourceLocation: sourceLocation)
    let time = lines.popLast() ?? ""
    #expect(lines == expected, sourceLocation: sourceLocation)
    let isTime = time.wholeMatch(of: /time: [0-9]+(\.[0-9])? (ns|µs|ms)/) != nil
    #expect(isTime, "last line: '\(time)'", sourceLocation: sourceLocation)
}

@Suite("bpfrun command line", .enabled(if: CLI.isBuilt, "the bpfrun executable was not built next to the tests"))
struct CLITests {
    @Test("wrong arguments and bad files give their own one-line message and exit status",
          arguments: BadInvocation.repositoryFiles)
    func badInput(_ invocation: BadInvocation) throws {
        let sumFile = CLI.repository.appendingPathComponent("examples/sum.s")
        let sum = try Data(contentsOf: sumFile)
        let output = try CLI.run(invocation.arguments)
        #expect(output.status == invocation.status)
        #expect(output.stderr == invocation.stderr)
        #expect(output.stdout.isEmpty)
        // Nothing is written, in particular not by `asm -o` onto its own input.
        #expect(try Data(contentsOf: sumFile) == sum)
    }

    @Test("wrong arguments on progs objects give their own one-line message and exit status",
          .enabled(if: !CLI.objects.isEmpty, "progs/build is empty; run `make -C progs`"),
          arguments: BadInvocation.progsObjects)
    func badInputOnObjects(_ invocation: BadInvocation) throws {
        let output = try CLI.run(invocation.arguments)
        #expect(output.status == invocation.status)
        #expect(output.stderr == invocation.stderr)
        #expect(output.stdout.isEmpty)
    }

    @Test("run prints r0, printk output and the maps a program changed",
          .enabled(if: !CLI.objects.isEmpty, "progs/build is empty; run `make -C progs`"))
    func runObject() throws {
        let printk = try CLI.run(["run", "progs/build/printk.o", "--ctx-args", "0x0a000001,443,100,60", "--checked"])
        expectRunOutput(printk, lines: [
            "r0 = 0 (0x0, as int: 0)",
            "printk:",
            "  send: 10.0.0.1:443 len=100 ret=60",
            "  short send: 60 of 100",
        ])
        let counter = try CLI.run(["run", "progs/build/hash_counter.o", "--ctx-args", "0x0a000001,443,100,100",
                                   "--host-btf", "progs/build/host_hooks.o"])
        expectRunOutput(counter, lines: [
            "r0 = 0 (0x0, as int: 0)",
            "maps changed:",
            "  last_peer: key bb 01 00 00 → 01 00 00 0a",
            "  send_stats: key bb 01 00 00 → 01 00 00 00 00 00 00 00 64 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
        ])
    }

    @Test("dump shows the prototype, source lines with --linum, and bytes with --opcodes",
          .enabled(if: !CLI.objects.isEmpty, "progs/build is empty; run `make -C progs`"))
    func dump() throws {
        let output = try CLI.run(["dump", "progs/build/subprogs.o", "--linum", "--opcodes"])
        #expect(output.status == 0 && output.stderr.isEmpty, "stderr: \(output.stderr)")
        let lines = output.stdout.split(separator: "\n").map(String.init)
        // make -C progs compiles subprogs.c in progs/, so the line info names it by its absolute path there.
        let source = CLI.repository.appendingPathComponent("progs/subprogs.c").path
        func at(_ line: Int, _ column: Int) -> String { " [file:\(source) line_num:\(line) line_col:\(column)]" }
        #expect(lines.first == "int classify_send(unsigned long long * ctx):")
        // The functions in the order the linker places them: the entry, then its callees.
        #expect(lines.filter { $0.hasSuffix("):") } == [
            "int classify_send(unsigned long long * ctx):",
            "int port_class(__u32 port):",
            "__u32 flow_hash(__u32 daddr, __u32 dport):",
            "__u32 mix32(__u32 h):",
            "__u64 clamp_len(__u64 len, __u64 max):",
        ])
        // A source line, the instruction, then its bytes, each block exactly once and in this order.
        let blocks: [[String]] = [
            ["; __u32 cls = port_class(dport);" + at(68, 14),
             "   4: w1 = w8",
             "       bc 81 00 00 00 00 00 00"],
            // The map reference is linked to map index 0 (src 5, BPF_PSEUDO_MAP_IDX): class_counts is the first map the program uses.
            ["; count = bpf_map_lookup_elem(&class_counts, &cls);" + at(71, 10),
             "   9: r1 = map[class_counts] ll",
             "       18 51 00 00 00 00 00 00 00 00 00 00 00 00 00 00"],
            // .bss is the second map used (index 1, src 6, BPF_PSEUDO_MAP_IDX_VALUE); clamped_bytes is at offset 8 in it.
            ["; __sync_fetch_and_add(&clamped_bytes, clamp_len(ret, MTU));" + at(77, 3),
             "  24: r1 = map[subprogs.bss][0]+8 ll ; clamped_bytes",
             "       18 61 00 00 01 00 00 00 00 00 00 00 08 00 00 00"],
            // A whole subprogram: its prototype, its declaration line (column 0) and every instruction.
            ["int port_class(__u32 port):",
             "; __noinline int port_class(__u32 port)" + at(35, 0),
             "  29: w0 = 0x0",
             "       b4 00 00 00 00 00 00 00",
             "; if (port < 1024)" + at(37, 11),
             "  30: if w1 < 0x400 goto +0x3",
             "       a6 01 03 00 00 04 00 00",
             "  31: w0 = 0x1",
             "       b4 00 00 00 01 00 00 00",
             "  32: if w1 < 0xc000 goto +0x1",
             "       a6 01 01 00 00 c0 00 00",
             "  33: w0 = 0x2",
             "       b4 00 00 00 02 00 00 00",
             "; }" + at(42, 1),
             "  34: exit",
             "       95 00 00 00 00 00 00 00",
             "__u32 flow_hash(__u32 daddr, __u32 dport):"],
        ]
        var searchFrom = 0
        for block in blocks {
            let starts = lines.indices.filter { lines[$0...].starts(with: block) }
            #expect(starts.count == 1, "expected once:\n\(block.joined(separator: "\n"))")
            if let start = starts.first {
                #expect(start >= searchFrom, "out of order:\n\(block.joined(separator: "\n"))")
                searchFrom = start + block.count
            }
        }
        // Every instruction line is followed by its bytes: 8, or 16 for the two slots of an lddw.
        for (index, line) in lines.enumerated() where line.wholeMatch(of: #/ *[0-9]+: .*/#) != nil {
            let bytes = index + 1 < lines.count ? lines[index + 1] : ""
            let count = line.hasSuffix(" ll") || line.contains(" ll ; ") ? 16 : 8
            let isBytes = bytes.wholeMatch(of: #/ {7}[0-9a-f]{2}( [0-9a-f]{2})*/#) != nil
            #expect(isBytes && bytes.split(separator: " ").count == count, "after '\(line)': '\(bytes)'")
        }
    }

    @Test("run --jit gives what the interpreter gives; --repeat ends with the time per run")
    func runJIT() throws {
        let memory = ["--mem", "01 00 00 00 02 00 00 00 03 00 00 00"]
        try TemporaryDirectory.with("bpfrun-jit") { directory in
            let source = directory.file("sum3.s")
            try "ldxw %r0, [%r1]\nldxw %r2, [%r1+4]\nadd %r0, %r2\nldxw %r2, [%r1+8]\nadd %r0, %r2\nexit\n"
                .write(to: source, atomically: true, encoding: .utf8)
            for engine in ["--interp", "--jit"] {
                expectRunOutput(try CLI.run(["run", source.path, engine] + memory), lines: ["r0 = 6 (0x6)"])
                let repeated = try CLI.run(["run", source.path, engine, "--repeat", "3"] + memory)
                #expect(repeated.status == 0 && repeated.stderr.isEmpty, "stderr: \(repeated.stderr)")
                let lines = repeated.stdout.split(separator: "\n").map(String.init)
                #expect(lines.first == "r0 = 6 (0x6)")
                #expect(lines.count == 3 && lines[2].wholeMatch(of: /ns\/run: [0-9]+\.[0-9]/) != nil, "\(lines)")
            }
        }
    }

    @Test("run --jit on objects: the same r0, printk output and map changes as the interpreter",
          .enabled(if: !CLI.objects.isEmpty, "progs/build is empty; run `make -C progs`"))
    func runObjectJIT() throws {
        let packet = "02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00 00 20 00 00 00 00 40 11 00 00 c0 00 02 01 "
            + "0a 00 00 01 30 39 2b cb 00 0c 00 00 73 74 61 74"
        for engine in ["--interp", "--jit"] {
            expectRunOutput(try CLI.run(["run", "progs/build/xdp_firewall.o", engine, "--mem", packet]), lines: [
                "r0 = 1 (0x1)",
                "maps changed:",
                "  src_packets: key c0 00 02 01 → 01 00 00 00 00 00 00 00",
            ])
        }
    }

    @Test("run --jit on a hook program: host loads through a NULL argument read 0, tail calls reach verified siblings",
          .enabled(if: !CLI.objects.isEmpty, "progs/build is empty; run `make -C progs`"))
    func runHookProgramJIT() throws {
        // req = NULL: req->method reads 0 (REQ_GET), so dispatch_request tail-calls check_get,
        // verified for the same hook; `dispatched` and `gets` count one each.
        let output = try CLI.run(["run", "progs/build/tail_call.o", "--prog", "dispatch_request", "--jit",
                                  "--host-btf", "progs/build/host_hooks.o", "--ctx-args", "0,0"])
        expectRunOutput(output, lines: [
            "r0 = 0 (0x0, as int: 0)",
            "maps changed:",
            "  tail_cal.bss: key 00 00 00 00 → 01" + String(repeating: " 00", count: 15) + " 01" + String(repeating: " 00", count: 23),
        ])
    }

    @Test("bench: every engine agrees with the native build, then one table row per program and the means",
          .enabled(if: !CLI.objects.isEmpty, "progs/build is empty; run `make -C progs`"))
    func bench() throws {
        let output = try CLI.run(["bench", "--rounds", "1", "--filter", "histogram"])
        #expect(output.status == 0, "stderr: \(output.stderr)")
        let rows = output.stdout.split(separator: "\n").filter { $0.hasPrefix("|") }
        #expect(rows.count == 4, "\(output.stdout)")
        #expect(rows.first?.hasPrefix("| program | insns | native ns | JIT ns | trusted ns | checked ns |") == true)
        #expect(rows.dropFirst(2).first?.hasPrefix("| histogram | ") == true)
        #expect(rows.last?.hasPrefix("| geometric mean |") == true)
    }

    @Test("dump --jited: bpftool's layout (prototype, symbol, source lines, pc: instruction), bytes with --opcodes",
          .enabled(if: !CLI.objects.isEmpty, "progs/build is empty; run `make -C progs`"))
    func dumpJited() throws {
        let output = try CLI.run(["dump", "progs/build/subprogs.o", "--jited", "--opcodes", "--host-btf", "progs/build/host_hooks.o"])
        #expect(output.status == 0 && output.stderr.isEmpty, "stderr: \(output.stderr)")
        let lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The entry stub, then each function under its prototype and symbol, after an empty line.
        #expect(lines.first == "classify_send__entry:")
        for (prototype, symbol) in [("int classify_send(unsigned long long * ctx):", "bpf_prog_classify_send_classify_send:"),
                                    ("int port_class(__u32 port):", "bpf_prog_classify_send_port_class:"),
                                    ("__u32 mix32(__u32 h):", "bpf_prog_classify_send_mix32:")] {
            let index = try #require(lines.firstIndex(of: prototype), "\(prototype) missing")
            #expect(lines[index - 1] == "" && lines[index + 1] == symbol)
        }
        #expect(lines.contains("; __u32 cls = port_class(dport);"))
        // Every instruction line is `pc:<tab>text` with hex pcs in order, followed by its bytes.
        var previous = -1
        for (index, line) in lines.enumerated() {
            guard let match = line.wholeMatch(of: /( *)([0-9a-f]+):\t(.+)/) else { continue }
            let pc = try #require(Int(match.output.2, radix: 16))
            #expect(pc > previous && match.output.1.count + match.output.2.count >= 4, "\(line)")
            previous = pc
            #expect(lines[index + 1].wholeMatch(of: /\t([0-9a-f]{2} )+/) != nil, "after '\(line)': '\(lines[index + 1])'")
        }
        #expect(previous > 0)
        if MachineCode.llvmObjdump {
            #expect(lines[1] == "   0:\tpushq\t%r12")
        }
    }

    @Test("btf output is identical to bpftool's in every format",
          .enabled(if: CLI.bpftool != nil, "bpftool not found in /usr/sbin or /usr/bin; run scripts/ensure-tools"),
          .enabled(if: !CLI.objects.isEmpty, "progs/build is empty; run `make -C progs`"),
          arguments: CLI.objects)
    func btfMatchesBpftool(object: String) throws {
        let bpftool = try #require(CLI.bpftool)
        let path = "progs/build/" + object
        for (format, bpftoolArguments) in [("raw", ["btf", "dump", "file", path]),
                                           ("c", ["btf", "dump", "file", path, "format", "c"]),
                                           ("json", ["-j", "btf", "dump", "file", path])] {
            let ours = try CLI.run(["btf", path, "--format", format])
            let theirs = try CLI.run(bpftoolArguments, executable: bpftool)
            #expect(ours.status == 0 && ours.stderr.isEmpty, "bpfrun: \(ours.stderr)")
            #expect(theirs.status == 0, "bpftool: \(theirs.stderr)")
            #expect(!theirs.stdout.isEmpty)
            #expect(ours.stdout == theirs.stdout, "\(object) --format \(format) differs from bpftool")
        }
    }
}
