import Foundation
import Testing
import TestSupport
import BPFVM

/// Runs the `bpfrun` built next to the test bundle, and the oracles.
enum Tools {
    static let bpfrun = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("bpfrun").path
    static let bpftool: String? = ["/usr/sbin/bpftool", "/usr/bin/bpftool"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static let isBuilt = FileManager.default.isExecutableFile(atPath: bpfrun)

    static func bpfrun(_ arguments: [String]) throws -> ToolRun {
        try ToolRun(bpfrun, arguments, in: CompatSuite.repository)
    }
}

/// Every object of the suite inspects, dumps each program with its source, and prints its BTF as
/// bpftool does (raw, C and JSON).
@Suite("Compatibility suite: inspection, dumps and BTF", .enabled(if: CompatSuite.isBuilt, CompatSuite.skipReason),
       .enabled(if: Tools.isBuilt, "the bpfrun executable is not built"))
struct CompatInspectionTests {
    @Test("inspect lists every program and every map by its kernel type name", arguments: CompatSuite.names)
    func inspect(_ name: String) throws {
        let result = try Tools.bpfrun(["inspect", CompatSuite.url(name).path])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try CompatSuite.object(name)
        for program in object.programs {
            #expect(result.stdout.contains("  \(program.name)  section \(program.section)"), "\(result.stdout)")
        }
        for map in object.maps {
            #expect(result.stdout.contains("  \(map.name)  \(map.type)  "), "\(result.stdout)")
        }
        for data in object.globalData {
            #expect(result.stdout.contains("  \(data.mapName)  array"), "\(result.stdout)")
        }
    }

    @Test("dump prints every program, kernel-only ones included, with its prototype and source",
          arguments: CompatSuite.names)
    func dump(_ name: String) throws {
        let object = try CompatSuite.object(name)
        #expect(!object.programs.isEmpty)
        for program in object.programs {
            let result = try Tools.bpfrun(["dump", CompatSuite.url(name).path, "--prog", program.name, "--linum"])
            #expect(result.status == 0, "\(program.name): \(result.stderr)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("int \(program.name)(") == true, "\(result.stdout.prefix(200))")
            #expect(lines.contains { $0.hasPrefix("; ") && $0.contains("[file:") })
            // Every instruction is printed: the last line is the last linked one.
            let count = try CompatSuite.linkedCount(name, program.name)
            #expect(lines.last?.drop { $0 == " " }.hasPrefix("\(count - 1): ") == true, "\(lines.last ?? "")")
        }
    }

    @Test("btf prints what bpftool prints, raw, as C and as JSON", .enabled(if: Tools.bpftool != nil, "bpftool not found"),
          arguments: CompatSuite.names)
    func btf(_ name: String) throws {
        let path = CompatSuite.url(name).path
        let bpftool = try #require(Tools.bpftool)
        for (ours, theirs) in [(["btf", path], ["btf", "dump", "file", path]),
                               (["btf", path, "--format", "c"], ["btf", "dump", "file", path, "format", "c"]),
                               (["btf", path, "--format", "json"], ["-j", "btf", "dump", "file", path])] {
            let expected = try ToolRun(bpftool, theirs)
            try #require(expected.status == 0, "bpftool \(theirs): \(expected.stderr)")
            let result = try Tools.bpfrun(ours)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == expected.stdout, "bpfrun \(ours.dropFirst().joined(separator: " "))")
        }
    }

    @Test("the target kernels' BTF prints as bpftool prints it", .enabled(if: Tools.bpftool != nil, "bpftool not found"),
          arguments: ["kernel_new", "kernel_old"])
    func targetBTF(_ name: String) throws {
        let path = CompatSuite.directory.appendingPathComponent("target/\(name).o").path
        let expected = try ToolRun(try #require(Tools.bpftool), ["btf", "dump", "file", path])
        let result = try Tools.bpfrun(["btf", path])
        #expect(result.status == 0 && result.stdout == expected.stdout)
    }

    @Test("the suite has at least 25 objects; all parse, and every program but the kernel-only ones loads")
    func counts() throws {
        #expect(CompatSuite.names.count >= 25)
        let kernel = try #require(CompatSuite.newKernel, "the compat target kernels are not built")
        var refused: Set<String> = []
        for name in CompatSuite.names {
            let object = try CompatSuite.object(name)
            for program in object.programs {
                let loaded = try LoadedObject(object)
                if (try? loaded.load(programs: [program.name], targetBTF: kernel)) == nil {
                    refused.insert("\(name)/\(program.name)")
                }
            }
        }
        #expect(refused == Set(CompatSuite.kernelOnlyPrograms.keys))
    }
}
