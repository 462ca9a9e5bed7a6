import Foundation
import Testing
import TestSupport

/// What `bpfrun run` prints for the suite's records: perf buffer events like ring buffer
/// records, stack traces with their frames named, and kconfig values from a configuration file.
@Suite("Compatibility suite: bpfrun run output", .enabled(if: CompatSuite.isBuilt, CompatSuite.skipReason),
       .enabled(if: Tools.isBuilt, "the bpfrun executable is not built"))
struct CompatCommandTests {
    static let target = CompatSuite.directory.appendingPathComponent("target/kernel_new.o").path

    /// `bpfrun run` of `name` in checked mode (which needs no verifier to vouch for the program).
    static func run(_ name: String, _ arguments: [String]) throws -> ToolRun {
        try Tools.bpfrun(["run", CompatSuite.url(name).path, "--target-btf", target, "--checked"] + arguments)
    }

    static func zeros(_ count: Int) -> String { String(repeating: "00", count: count) }

    @Test("perf event records print under their buffer, in hex")
    func perfRecords() throws {
        // A zeroed pt_regs: the file pointer is NULL, every read of it gives zeros, the event is sent.
        let result = try Self.run("file_path", ["--mem", Self.zeros(168)])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        let header = try #require(lines.firstIndex(of: "perf event array events:"))
        let record = lines[header + 1]
        #expect(record.hasPrefix("  [buffer ") && record.split(separator: " ").count == 2 + 64)
    }

    @Test("stack traces print with their id and frames, named where the dynamic linker can")
    func stackTraces() throws {
        let result = try Self.run("profile", ["--mem", Self.zeros(184)])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("stack traces stackmap:\n  stack id "))
        #expect(result.stdout.contains("    #0 0x"))
        // The user stack starts where the run started and goes out through the command.
        #expect(result.stdout.contains("BPFVM.Interpreter.run"))
        #expect(result.stdout.contains("bpfrun.Run.run()"))
        #expect(result.stdout.contains("counts: key "))
    }

    @Test("dump marks a poisoned instruction with what it was poisoned for")
    func poisonedInstructions() throws {
        let result = try Tools.bpfrun(["dump", CompatSuite.url("ksym_guard").path, "--prog", "call_unguarded"])
        #expect(result.status == 0, "\(result.stderr)")
        // libbpf's kfunc poison: 2000000000 plus the extern's index (the fourth __ksym by name).
        #expect(result.stdout.contains("   2: call 2000000003 ; poisoned: weak kfunc 'bpf_task_from_pid' is not"
            + " resolved: this runtime has no kernel functions\n"))
    }

    @Test("--kconfig gives CONFIG_ values; a malformed configuration names its line")
    func kernelConfiguration() throws {
        try TemporaryDirectory.with("compat-kconfig") { directory in
            let config = directory.file("config")
            try "CONFIG_HZ=300\n# CONFIG_X is not set\n".write(to: config, atomically: true, encoding: .utf8)
            let result = try Self.run("kconfig_probe", ["--kconfig", config.path])
            #expect(result.status == 0, "\(result.stderr)")
            // seen.hz (offset 48) is 300 = 0x12c, seen.tick_us 3333 = 0xd05.
            #expect(result.stdout.contains(" 2c 01 00 00 00 00 00 00 05 0d 00 00"))
            try "CONFIG_HZ\n".write(to: config, atomically: true, encoding: .utf8)
            let bad = try Self.run("kconfig_probe", ["--kconfig", config.path])
            #expect(bad.status == 1)
            #expect(bad.stderr == "bpfrun: \(config.path): kernel configuration, line 1: 'CONFIG_HZ' has no '='\n")
        }
    }
}
