import Foundation
import Testing

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = repository
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}

@Suite("bpfrun command line", .enabled(if: CLI.isBuilt, "the bpfrun executable was not built next to the tests"))
struct CLITests {
    @Test("wrong arguments and bad files give one line on stderr and a non-zero exit", arguments: [
        ["run"], ["frobnicate"], ["run", "no-such-file"], ["run", "README.md"], ["run", "examples"],
        ["run", "examples/sum.s", "--mem", "zz"], ["run", "examples/sum.s", "--mem", "00", "--ctx-args", "1"],
        ["run", "examples/sum.s", "--bogus"], ["disasm", "examples/sum.s", "--syntax", "intel"],
        ["inspect", "README.md"], ["dump", "progs/build/lsm_policy.o"], ["dump", "progs/build/lsm_policy.o", "--prog", "nope"],
        ["btf", "progs/build/hash_counter.o", "--format", "yaml"], ["run", "progs/build/hash_counter.o", "--ctx-args", "x"],
        ["asm", "examples/sum.s", "-o", "examples/sum.s"], ["conformance", "README.md"],
    ])
    func badInput(arguments: [String]) throws {
        let output = try CLI.run(arguments)
        #expect(output.status != 0)
        #expect(output.stderr.hasPrefix("bpfrun: "))
        #expect(output.stderr.filter { $0 == "\n" }.count == 1, "stderr: \(output.stderr)")
    }

    @Test("run prints r0, printk output and the maps a program changed",
          .enabled(if: !CLI.objects.isEmpty, "progs/build is empty; run `make -C progs`"))
    func runObject() throws {
        let output = try CLI.run(["run", "progs/build/printk.o", "--ctx-args", "0x0a000001,443,100,60", "--checked"])
        #expect(output.status == 0)
        #expect(output.stdout.hasPrefix("r0 = 0 (0x0, as int: 0)\nprintk:\n  send: 10.0.0.1:443 len=100 ret=60\n  short send: 60 of 100\n"))
        let counter = try CLI.run(["run", "progs/build/hash_counter.o", "--ctx-args", "0x0a000001,443,100,100"])
        #expect(counter.stdout.contains("send_stats: key bb 01 00 00 → 01 00 00 00 00 00 00 00 64 00"))
    }

    @Test("dump shows the prototype, source lines with --linum, and bytes with --opcodes",
          .enabled(if: !CLI.objects.isEmpty, "progs/build is empty; run `make -C progs`"))
    func dump() throws {
        let output = try CLI.run(["dump", "progs/build/subprogs.o", "--linum", "--opcodes"])
        let lines = output.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "int classify_send(unsigned long long * ctx):")
        #expect(lines.contains { $0.hasPrefix("; __u32 cls = port_class(dport); [file:") && $0.hasSuffix("line_num:68 line_col:14]") })
        #expect(lines.contains("   9: r1 = map[class_counts] ll"))
        #expect(lines.contains("       18 19 00 00 00 00 00 00 00 00 00 00 00 00 00 00") || lines.contains { $0.hasPrefix("       18 ") })
        #expect(lines.contains("__u32 port_class(__u32 port):") || lines.contains { $0.hasSuffix("port_class(__u32 port):") })
    }

    @Test("btf output is identical to bpftool's in every format", arguments: CLI.objects)
    func btfMatchesBpftool(object: String) throws {
        let bpftool = try #require(CLI.bpftool)
        let path = "progs/build/" + object
        for (format, bpftoolArguments) in [("raw", ["btf", "dump", "file", path]),
                                           ("c", ["btf", "dump", "file", path, "format", "c"]),
                                           ("json", ["-j", "btf", "dump", "file", path])] {
            let ours = try CLI.run(["btf", path, "--format", format])
            let theirs = try CLI.run(bpftoolArguments, executable: bpftool)
            #expect(ours.status == 0 && theirs.status == 0)
            #expect(ours.stdout == theirs.stdout, "\(object) --format \(format) differs from bpftool")
        }
    }
}
