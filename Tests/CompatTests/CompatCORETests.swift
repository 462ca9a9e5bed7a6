import Foundation
import Synchronization
import Testing
import BPFVM
import Verifier

/// The kernel-struct CO-RE programs, guarded fields, kconfig probes, ksyms and per-CPU counters of
/// the suite, and its objects that mix runnable and kernel-only programs.
@Suite("Compatibility suite: kernel structs, guards, kconfig, ksyms, mixed objects",
       .enabled(if: CompatSuite.isBuilt, CompatSuite.skipReason))
struct CompatCORETests {
    @Test("task_info: task fields through pointers and the mm_struct's anonymous struct", arguments: CompatSuite.modes)
    func taskInfo(checked: Bool) throws {
        let object = try CompatSuite.load("task_info")
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let parent = try memory.make("task_struct", ["tgid": .integer(1)])
        let mm = try memory.make("mm_struct", ["arg_start": .integer(0x7ffd_0000), "arg_end": .integer(0x7ffd_0040)])
        let cred = try memory.make("cred", ["uid.val": .integer(1000)])
        let task = try memory.make("task_struct", [
            "pid": .integer(1234), "tgid": .integer(1200), "real_parent": .pointer(parent), "mm": .pointer(mm),
            "cred": .pointer(cred), "comm": .text("worker"), "flags": .integer(0x40),
        ])
        _ = try memory.run(object.program(named: "describe_exec"), slots: [task], checked: checked)
        let records = try #require(object.map(named: "events")).consumeAll()
        try #require(records.count == 1)
        let event = records[0]
        #expect([0, 4, 8, 12].map { event.integer(UInt32.self, at: $0) } == [1234, 1200, 1, 1000])
        #expect(event.integer(UInt64.self, at: 16) == 0x40 && event.string(at: 24, count: 16) == "worker")
        #expect(event.integer(UInt64.self, at: 40) == 0x40)
    }

    @Test("skb_dev: device, length, protocol and mark through three levels of anonymous members",
          arguments: CompatSuite.modes)
    func skbDevice(checked: Bool) throws {
        let object = try CompatSuite.load("skb_dev")
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let device = try memory.make("net_device", ["ifindex": .integer(3), "name": .text("eth0")])
        let program = try object.program(named: "count_receive")
        for (length, mark) in [(1500, 7), (100, 0)] {
            let skb = try memory.make("sk_buff", ["dev": .pointer(device), "len": .integer(Int64(length)),
                                                  "protocol": .bytes([0x08, 0x00]), "mark": .integer(Int64(mark))])
            _ = try memory.run(program, context: try memory.make("pt_regs", ["di": .pointer(skb)]),
                               size: try memory.size(of: "pt_regs"), checked: checked)
        }
        let stats = try #require(object.map(named: "stats"))
        #expect(stats.lookup(le(Int32(3)) + le(UInt16(0x0800)) + [0, 0]) == le(UInt64(2)) + le(UInt64(1600)) + le(UInt64(1)))
    }

    @Test("task_state: __state on a recent kernel, state on an old one; the other read is poisoned, never reached",
          arguments: CompatSuite.modes)
    func taskState(checked: Bool) throws {
        for (kernel, field, value, newLayout) in [(CompatSuite.newKernel, "__state", Int64(2), UInt32(1)),
                                                  (CompatSuite.oldKernel, "state", 64, 0)] {
            let btf = try #require(kernel)
            let object = try CompatSuite.load("task_state", kernel: btf)
            let program = try object.program(named: "record_state")
            #expect(!program.linked.metadata.poisoned.isEmpty)
            #expect(program.linked.metadata.poisoned.allSatisfy { $0.reason.contains("the target BTF has no such field") })
            let memory = KernelMemory(btf)
            let task = try memory.make("task_struct", ["pid": .integer(42), field: .integer(value)])
            _ = try memory.run(program, slots: [0, task], checked: checked)
            #expect(try object.global("used_new_layout", as: UInt32.self) == newLayout)
            #expect(try object.global("last_state", as: Int64.self) == value)
            #expect(try object.global("last_pid", as: UInt32.self) == 42)
        }
    }

    @Test("guarded_fields: existence, sizes and enum values of the running kernel; an unguarded read traps naming its relocation",
          arguments: CompatSuite.modes)
    func guardedFields(checked: Bool) throws {
        let btf = try #require(CompatSuite.newKernel)
        let object = try CompatSuite.load("guarded_fields")
        let memory = KernelMemory(btf)
        let regs = try memory.make("pt_regs")
        let size = try memory.size(of: "pt_regs")
        _ = try memory.run(object.program(named: "probe_features"), context: regs, size: size, checked: checked)
        let features = try #require(object.global("features"))
        let values = (0..<9).map { features.integer(UInt64.self, at: $0 * 8) }
        // No rq_disk, a queue disk, no made-up type, the target's struct request, an 8-byte
        // sector, an unused field, no SOCK_KIND_RAW, the target's numbers for STREAM and DGRAM.
        #expect(values == [0, 1, 0, UInt64(try memory.size(of: "request")), 8, 0, 0, 10, 20])
        let missing = try object.program(named: "read_missing")
        let poisoned = try #require(missing.linked.metadata.poisoned.first)
        #expect(poisoned.reason.contains("request___pre517.rq_disk"))
        // A checked run traps there; unchecked, the verifier refuses the program, which reaches it.
        let error = #expect(throws: (any Error).self) { _ = try memory.run(missing, context: regs, size: size, checked: checked) }
        if checked {
            #expect((error as? ExecutionError)?.reason == .poisonedInstruction(poisoned.reason))
        } else {
            #expect((error as? VerifierError)?.reason == .poisonedCall(PoisonedInstruction.coreImmediate, poisoned.reason))
        }
    }

    @Test("biolatency: the request's disk through rq->q->disk on a recent kernel, rq->rq_disk on an old one",
          arguments: CompatSuite.modes)
    func biolatency(checked: Bool) throws {
        for kernel in [CompatSuite.newKernel, CompatSuite.oldKernel] {
            let btf = try #require(kernel)
            let isNew = btf.types.contains { $0.name == "request_queue" && btf.member(named: "disk", in: $0.id) != nil }
            let object = try CompatSuite.load("biolatency", kernel: btf)
            let memory = KernelMemory(btf)
            let disk = try memory.make("gendisk", ["major": .integer(isNew ? 8 : 259), "first_minor": .integer(16)])
            let queue = try memory.make("request_queue", isNew ? ["disk": .pointer(disk)] : [:])
            let request = try memory.make("request", isNew ? ["q": .pointer(queue)] : ["q": .pointer(queue),
                                                                                       "rq_disk": .pointer(disk)])
            let regs = try memory.make("pt_regs", ["di": .pointer(request)])
            let size = try memory.size(of: "pt_regs")
            _ = try memory.run(object.program(named: "block_issue"), context: regs, size: size, checked: checked)
            _ = try memory.run(object.program(named: "block_complete"), context: regs, size: size, checked: checked)
            let histograms = try #require(object.map(named: "histograms"))
            let histogram = try #require(histograms.lookup(le(Int32(isNew ? 8 : 259)) + le(Int32(16))))
            #expect((0..<24).reduce(0) { $0 + histogram.integer(UInt64.self, at: $1 * 8) } == 1)
            #expect(try #require(object.map(named: "issued")).count == 0)
        }
    }

    @Test("kconfig_probe: libbpf's LINUX_ values and the configuration's CONFIG_ values; weak ones read 0 without it",
          arguments: CompatSuite.modes)
    func kconfigProbe(checked: Bool) throws {
        let configured = try KernelConfig(parsing: """
            CONFIG_BPF_SYSCALL=y
            CONFIG_BLK_DEV_NVME=m
            CONFIG_HZ=250
            CONFIG_PHYSICAL_START=0x1000000
            CONFIG_DEFAULT_HOSTNAME="(none)"
            """)
        let version = UInt64(KernelConfig.runningKernelVersion)
        for (config, expected) in [(configured, [version, version >= 0x06_00_00 ? 1 : 0, 1, 0, 1, 2, 250, 4000, 0x100_0000]),
                                   (KernelConfig(kernelVersion: 0x05_0f_00), [0x05_0f_00, 0, 1, 0, 0, 0, 0, 0, 0])] {
            let object = try CompatSuite.load("kconfig_probe", kernelConfig: config)
            _ = try object.program(named: "probe_config").suiteRun(context: [UInt8](repeating: 0, count: 8), checked: checked)
            let seen = try #require(object.global("seen"))
            #expect((0..<9).map { seen.integer(UInt64.self, at: $0 * 8) } == expected)
            #expect(seen.string(at: 72, count: 16) == (expected[6] == 250 ? "(none)" : ""))
        }
    }

    @Test("syscall_args: the syscall's arguments with and without syscall wrappers (LINUX_HAS_SYSCALL_WRAPPER)",
          arguments: CompatSuite.modes)
    func syscallArguments(checked: Bool) throws {
        for wrapper in [true, false] {
            let object = try CompatSuite.load("syscall_args", kernelConfig: KernelConfig(hasSyscallWrapper: wrapper))
            let memory = KernelMemory(try #require(CompatSuite.newKernel))
            let path = memory.string("/etc/passwd")
            let user = try memory.make("pt_regs", ["di": .integer(-100), "si": .pointer(path), "dx": .integer(0o101)])
            let probed = wrapper ? try memory.make("pt_regs", ["di": .pointer(user)]) : user
            _ = try memory.run(object.program(named: "probe_openat"), context: probed,
                               size: try memory.size(of: "pt_regs"), checked: checked)
            #expect(try object.global("last_dirfd", as: Int64.self) == -100)
            #expect(try object.global("last_path", as: UInt64.self) == path)
            #expect(try object.global("last_flags", as: UInt64.self) == 0o101)
            #expect(try object.global("calls", as: UInt64.self) == 1)
        }
    }

    @Test("ksym_guard: missing ksyms read 0 and guarded kfuncs are skipped; an unguarded kfunc call traps",
          arguments: CompatSuite.modes)
    func ksymGuard(checked: Bool) throws {
        let object = try CompatSuite.load("ksym_guard")
        let context = [UInt8](repeating: 0, count: 8)
        _ = try object.program(named: "guarded").suiteRun(context: context, checked: checked)
        #expect(try object.global("used_kernel_symbols", as: UInt64.self) == 0)
        #expect(try object.global("used_fallbacks", as: UInt64.self) == 15)
        // A checked run traps at the poisoned call; unchecked, the verifier refuses the program, which reaches it.
        let reason = "weak kfunc 'bpf_task_from_pid' is not resolved: this runtime has no kernel functions"
        let error = #expect(throws: (any Error).self) {
            _ = try object.program(named: "call_unguarded").suiteRun(context: context, checked: checked)
        }
        if checked {
            #expect((error as? ExecutionError)?.reason == .poisonedInstruction(reason))
        } else {
            #expect((error as? VerifierError)?.reason == .poisonedCall(PoisonedInstruction.kfuncImmediateBase + 3, reason))
        }
    }

    @Test("percpu_counters: each thread counts in its own copy; the summary adds every copy", arguments: CompatSuite.modes)
    func perCPUCounters(checked: Bool) throws {
        let object = try CompatSuite.load("percpu_counters")
        let count = try object.program(named: "count_event")
        @Sendable func run(_ program: LoadedProgram, checked: Bool = checked) throws {
            _ = try program.suiteRun(context: [UInt8](repeating: 0, count: 8), checked: checked)
        }
        for _ in 0..<3 { try run(count) }
        #expect(try object.global("last_cpu", as: UInt32.self) == UInt32(Map.currentThreadSlot))
        #expect(try object.global("last_boot_ns", as: UInt64.self) > 0 && object.global("last_coarse_ns", as: UInt64.self) > 0)
        // Two more on another thread, which has a slot of its own.
        let done = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        let thread = Thread {
            do { for _ in 0..<2 { try run(count) } } catch { failure.withLock { $0 = error } }
            done.signal()
        }
        thread.start()
        done.wait()
        try failure.withLock { if let error = $0 { throw error } }
        // summarise runs checked in both modes: the verifier refuses it (E2BIG) until it tracks which
        // scalars are precise (issue 8), since its loop over 64 CPUs forks on every copy it reads.
        try run(object.program(named: "summarise"), checked: true)
        #expect(try object.global("total", as: UInt64.self) == 5)
        #expect(try object.global("cpus_seen", as: UInt32.self) == 2)
    }

    // MARK: - Objects mixing runnable and kernel-only programs

    /// Loads only the runnable program `program` of `name` and runs it with `body`; the object's
    /// kernel-only program fails on its own when asked for, naming what keeps it from running here.
    static func mixed(_ name: String, runnable program: String, _ body: (LoadedObject) throws -> Void) throws {
        let kernel = try #require(CompatSuite.newKernel)
        let loaded = try LoadedObject(CompatSuite.object(name))
        try loaded.load(programs: [program], targetBTF: kernel)
        #expect(loaded.programs.map(\.name) == [program])
        try body(loaded)
        let object = try CompatSuite.object(name)
        for other in object.programs where other.name != program {
            let error = #expect(throws: ObjectError.self) { try LoadedObject(object).load(programs: [other.name], targetBTF: kernel) }
            let reason = try #require(CompatSuite.kernelOnlyPrograms["\(name)/\(other.name)"])
            #expect(error.map { "\($0)" }?.contains(reason) == true, "\(String(describing: error))")
        }
    }

    @Test("mixed_multi: count_reads runs beside a kprobe.multi program", arguments: CompatSuite.modes)
    func mixedMulti(checked: Bool) throws {
        try Self.mixed("mixed_multi", runnable: "count_reads") { object in
            let memory = KernelMemory(try #require(CompatSuite.newKernel))
            for fd: UInt64 in [3, 3, 4] {
                _ = try memory.run(object.program(named: "count_reads"),
                                   context: try memory.make("trace_event_raw_sys_enter", ["args": .bytes(le(fd))]),
                                   size: try memory.size(of: "trace_event_raw_sys_enter"), checked: checked)
            }
            #expect(try #require(object.map(named: "reads")).value(forKey: UInt32(3), as: UInt64.self) == 2)
        }
    }

    @Test("mixed_helpers: count_exit runs beside a program that needs the kernel's task", arguments: CompatSuite.modes)
    func mixedHelpers(checked: Bool) throws {
        try Self.mixed("mixed_helpers", runnable: "count_exit") { object in
            let memory = KernelMemory(try #require(CompatSuite.newKernel))
            _ = try memory.run(object.program(named: "count_exit"),
                               context: try memory.make("trace_event_raw_sys_enter", ["args": .bytes(le(UInt64(3)))]),
                               size: try memory.size(of: "trace_event_raw_sys_enter"), checked: checked)
            #expect(try #require(object.map(named: "exit_codes")).value(forKey: UInt32(3), as: UInt64.self) == 1)
        }
    }

    @Test("mixed_iter: the socket filter keeps IPv4 TCP frames beside a task iterator", arguments: CompatSuite.modes)
    func mixedIterator(checked: Bool) throws {
        try Self.mixed("mixed_iter", runnable: "keep_ipv4_tcp") { object in
            var tcp = [UInt8](repeating: 0, count: 34), udp = tcp
            tcp[12] = 0x08; tcp[14] = 0x45; tcp[23] = 6
            udp[12] = 0x08; udp[14] = 0x45; udp[23] = 17
            let program = try object.program(named: "keep_ipv4_tcp")
            #expect(try program.suiteTestRun(input: tcp, checked: checked) == UInt64(UInt32.max))
            #expect(try program.suiteTestRun(input: udp, checked: checked) == 0)
            #expect(try object.global("accepted", as: UInt64.self) == 1 && object.global("dropped", as: UInt64.self) == 1)
        }
    }

    @Test("mixed_maps: count_sync runs beside an xdp program whose lpm_trie this runtime does not create",
          arguments: CompatSuite.modes)
    func mixedMaps(checked: Bool) throws {
        try Self.mixed("mixed_maps", runnable: "count_sync") { object in
            _ = try object.program(named: "count_sync").suiteRun(context: [UInt8](repeating: 0, count: 8), checked: checked)
            #expect(try #require(object.map(named: "counters")).value(forKey: UInt32(0), as: UInt64.self) == 1)
        }
    }
}
