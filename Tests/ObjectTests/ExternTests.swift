import Foundation
import Testing
import BPFVM

/// `__kconfig` and `__ksym` externs, resolved as libbpf resolves them.
@Suite("Externs: kconfig values, weak ksyms and kfuncs", .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct ExternTests {
    static let header = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>
        char LICENSE[] SEC("license") = "GPL";

        """

    static let kconfigProgram = header + """
        extern unsigned int LINUX_KERNEL_VERSION __kconfig;
        extern int LINUX_HAS_SYSCALL_WRAPPER __kconfig;
        extern _Bool LINUX_HAS_BPF_COOKIE __kconfig;
        extern int CONFIG_HZ __kconfig __weak;
        extern _Bool CONFIG_BPF_SYSCALL __kconfig __weak;
        extern enum libbpf_tristate CONFIG_XFS_FS __kconfig __weak;
        extern unsigned long CONFIG_PHYSICAL_START __kconfig __weak;
        extern char CONFIG_DEFAULT_HOSTNAME[8] __kconfig __weak;
        extern char CONFIG_SLUB_LETTER __kconfig __weak;
        long out[10];
        SEC("socket") int probe(void *ctx)
        {
            out[0] = LINUX_KERNEL_VERSION;
            out[1] = LINUX_HAS_SYSCALL_WRAPPER;
            out[2] = LINUX_HAS_BPF_COOKIE;
            out[3] = CONFIG_HZ;
            out[4] = CONFIG_BPF_SYSCALL;
            out[5] = CONFIG_XFS_FS;
            out[6] = CONFIG_PHYSICAL_START;
            out[7] = CONFIG_DEFAULT_HOSTNAME[0] | CONFIG_DEFAULT_HOSTNAME[6] << 8 | CONFIG_DEFAULT_HOSTNAME[7] << 16;
            out[8] = CONFIG_SLUB_LETTER;
            return 0;
        }
        """

    static func run(_ source: String, config: KernelConfig, program: String = "probe") throws -> [Int64] {
        let object = try Object(bytes: BPFCompiler.compile(source), name: "kconfig")
        let loaded = try LoadedObject(object, kernelConfig: config)
        try loaded.load()
        var memory = [UInt8](repeating: 0, count: 8)
        _ = try memory.withUnsafeMutableBytes { try loaded.program(named: program).run(memory: $0) }
        let out = try #require(loaded.global("out"))
        return stride(from: 0, to: out.count, by: 8).map { out[$0..<$0 + 8].withUnsafeBytes { $0.loadUnaligned(as: Int64.self) } }
    }

    @Test("libbpf's own LINUX_ values are supplied; CONFIG_ values come from the configuration given")
    func kconfigValues() throws {
        let config = try KernelConfig(parsing: """
            # CONFIG_FOO is not set
            CONFIG_HZ=250
            CONFIG_BPF_SYSCALL=y
            CONFIG_XFS_FS=m
            CONFIG_PHYSICAL_START=0x1000000
            CONFIG_DEFAULT_HOSTNAME="localhost"
            CONFIG_SLUB_LETTER=y
            """)
        let values = try Self.run(Self.kconfigProgram, config: config)
        // The hostname is cut to 7 characters and its NUL: "localho".
        #expect(values == [Int64(KernelConfig.runningKernelVersion), 1, 0, 250, 1, 2, 0x100_0000,
                           Int64(UInt8(ascii: "l")) | Int64(UInt8(ascii: "o")) << 8, Int64(UInt8(ascii: "y")), 0])
        #expect(KernelConfig.runningKernelVersion != 0)
    }

    @Test("weak __kconfig externs without a value read 0; LINUX_ values follow the configuration given")
    func weakDefaults() throws {
        let values = try Self.run(Self.kconfigProgram, config: KernelConfig(kernelVersion: 0x05_0a_00, hasSyscallWrapper: false,
                                                                           hasBPFCookie: true))
        #expect(values == [0x05_0a_00, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("the .kconfig map is laid out as libbpf lays it out: by alignment, then size, then name")
    func layout() throws {
        let object = try Object(bytes: BPFCompiler.compile(Self.kconfigProgram), name: "kconfig")
        let section = try #require(object.globalData.last)
        #expect(section.sectionName == ".kconfig" && section.mapName == "kconfig.kconfig" && section.isReadOnly)
        #expect(section.variables.map(\.name) == [
            "CONFIG_PHYSICAL_START", "CONFIG_HZ", "CONFIG_XFS_FS", "LINUX_HAS_SYSCALL_WRAPPER", "LINUX_KERNEL_VERSION",
            "CONFIG_BPF_SYSCALL", "CONFIG_SLUB_LETTER", "LINUX_HAS_BPF_COOKIE", "CONFIG_DEFAULT_HOSTNAME",
        ])
        #expect(section.variables.map(\.offset) == [0, 8, 12, 16, 20, 24, 25, 26, 27])
        #expect(section.initialBytes.count == 35)
    }

    @Test("a value that does not suit its extern, or a strong extern without one, is an error naming it",
          arguments: [
            ("extern int CONFIG_HZ __kconfig;", "", "extern 'CONFIG_HZ': strong __kconfig extern has no value: the kernel"
                + " configuration given does not set it (declare it __weak to read 0 instead)"),
            ("extern _Bool CONFIG_X __kconfig __weak;", "CONFIG_X=m", "extern 'CONFIG_X': value 'm' implies tristate or char type"),
            ("extern int CONFIG_X __kconfig __weak;", "CONFIG_X=y", "extern 'CONFIG_X': value 'y' implies bool, tristate, or char type"),
            ("extern short CONFIG_X __kconfig __weak;", "CONFIG_X=70000", "extern 'CONFIG_X': value 70000 doesn't fit in 2 bytes"),
            ("extern int CONFIG_X __kconfig __weak;", "CONFIG_X=12ab", "extern 'CONFIG_X': value '12ab' isn't a valid integer"),
            ("extern int CONFIG_X __kconfig __weak;", "CONFIG_X=\"on\"", "extern 'CONFIG_X': value \"on\" implies char array type"),
            ("extern int LINUX_NEW_THING __kconfig;", "", "extern 'LINUX_NEW_THING': not one of the values libbpf computes"
                + " itself (LINUX_KERNEL_VERSION, LINUX_HAS_SYSCALL_WRAPPER, LINUX_HAS_BPF_COOKIE)"),
          ])
    func badValues(declaration: String, config: String, message: String) throws {
        let name = declaration.split(separator: " ").first { $0.hasPrefix("CONFIG_") || $0.hasPrefix("LINUX_") }!
        let object = try Object(bytes: BPFCompiler.compile(Self.header + declaration + """

            SEC("socket") int probe(void *ctx) { return \(name); }
            """), name: "bad")
        let error = #expect(throws: ObjectError.self) {
            _ = try LoadedObject(object, kernelConfig: KernelConfig(parsing: config))
        }
        #expect(error?.description == message)
    }

    @Test("kernel versions are read from the release as libbpf reads them",
          arguments: [("6.8.0-45-generic", 0x06_08_00), ("5.15.300", 0x05_0f_ff), ("4.19.12+deb", 0x04_13_0c),
                      ("6.1", 0), ("weird", 0)])
    func kernelVersion(release: String, expected: UInt32) {
        #expect(KernelConfig.kernelVersion(release: release) == expected)
    }

    @Test("a configuration line without '=' or without a value is refused, naming the line")
    func badConfiguration() {
        #expect(throws: KernelConfigError(line: 2, reason: "'CONFIG_A' has no '='")) {
            try KernelConfig(parsing: "CONFIG_B=y\nCONFIG_A\n")
        }
        #expect(throws: KernelConfigError(line: 1, reason: "'CONFIG_A=' has no value")) {
            try KernelConfig(parsing: "CONFIG_A=")
        }
    }

    static let kernelSymbols = header + """
        extern const int bpf_prog_active __ksym __weak;
        extern void bpf_rcu_read_lock(void) __ksym __weak;
        extern void bpf_rcu_read_unlock(void) __ksym __weak;
        extern int strong_counter __ksym;
        extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
        SEC("socket") int guarded(void *ctx)
        {
            if (bpf_rcu_read_lock) bpf_rcu_read_lock();
            return (&bpf_prog_active == 0 ? 3 : 0) + (bpf_rcu_read_unlock ? 0 : 4);
        }
        SEC("socket") int unguarded(void *ctx) { bpf_rcu_read_lock(); return 1; }
        SEC("socket") int strong_variable(void *ctx) { return strong_counter; }
        SEC("socket") int strong_function(void *ctx) { return bpf_task_acquire(0) != 0; }
        """

    @Test("weak ksyms read 0 and a guarded weak kfunc never runs; an unguarded one traps naming it", arguments: [true, false])
    func weakKernelSymbols(checked: Bool) throws {
        let object = try Object(bytes: BPFCompiler.compile(Self.kernelSymbols), name: "ksyms")
        #expect(object.externs.map(\.name) == ["bpf_prog_active", "bpf_rcu_read_lock", "bpf_rcu_read_unlock",
                                               "bpf_task_acquire", "strong_counter"])
        let guarded = try Linker.link(object, program: "guarded")
        let unguarded = try Linker.link(object, program: "unguarded")
        // libbpf's kfunc poison: call 2000000000 + the extern's index.
        #expect(unguarded.instructions[0].rawValue == UInt64(UInt32(2_000_000_001)) << 32 | 0x85)
        #expect(unguarded.metadata.poisoned == [PoisonedInstruction(
            instructionIndex: 0, reason: "weak kfunc 'bpf_rcu_read_lock' is not resolved: this runtime has no kernel functions")])
        var memory = [UInt8](repeating: 0, count: 8)
        for (program, expected) in [(guarded, Result<UInt64, ExecutionError>.success(7)),
                                    (unguarded, .failure(ExecutionError(index: 0, reason: .poisonedInstruction(
                                        unguarded.metadata.poisoned[0].reason))))] {
            let interpreter = try Interpreter(program: program, helpers: StandardHelpers.table)
            let result = memory.withUnsafeMutableBytes { buffer in
                Result { () throws(ExecutionError) -> UInt64 in
                    checked ? try interpreter.run(memory: buffer) : try interpreter.runTrusted(memory: buffer)
                }
            }
            #expect(result == expected)
        }
    }

    @Test("a strong ksym or kfunc a program uses is a link error naming it",
          arguments: [("strong_variable", 0, "extern 'strong_counter' (variable __ksym)"),
                      ("strong_function", 1, "extern 'bpf_task_acquire' (function __ksym)")])
    func strongKernelSymbols(program: String, instruction: Int, what: String) throws {
        let object = try Object(bytes: BPFCompiler.compile(Self.kernelSymbols), name: "ksyms")
        let error = #expect(throws: ObjectError.self) { try Linker.link(object, program: program) }
        #expect(error?.description == "program '\(program)', instruction \(instruction): \(what) is not resolved: this runtime has"
            + " no kernel symbols; declare it __weak to read 0 and check it before use")
    }
}
