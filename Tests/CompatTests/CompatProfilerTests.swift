import Foundation
import Testing
import BPFVM

/// The profilers (stack maps), cgroup filters and maps of maps of the suite.
@Suite("Compatibility suite: profilers, cgroup filters, maps of maps", .enabled(if: CompatSuite.isBuilt, CompatSuite.skipReason))
struct CompatProfilerTests {
    /// Runs `program` `times` times from one call site, so that its user stacks are the same.
    @inline(never)
    static func sample(_ program: LoadedProgram, _ memory: KernelMemory, context: UInt64, size: Int, times: Int,
                       checked: Bool) throws
    {
        for _ in 0..<times { _ = try memory.run(program, context: context, size: size, checked: checked) }
    }

    @Test("profile: samples counted per user stack; the kernel stack has no frames (-EFAULT)", arguments: CompatSuite.modes)
    func profile(checked: Bool) throws {
        let object = try CompatSuite.load("profile")
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let context = try memory.make("bpf_perf_event_data")
        try Self.sample(object.program(named: "do_perf_event"), memory, context: context,
                        size: try memory.size(of: "bpf_perf_event_data"), times: 3, checked: checked)
        let counts = try #require(object.map(named: "counts"))
        try #require(counts.keys.count == 1)
        let key = counts.keys[0]
        #expect(key.integer(UInt32.self, at: 0) == UInt32(getpid()))
        let userStack = key.integer(Int32.self, at: 4)
        #expect(userStack >= 0 && key.integer(Int32.self, at: 8) == -EFAULT)
        #expect(key.string(at: 16, count: 16) == currentComm)
        #expect(counts.lookup(key) == le(UInt64(3)))
        // The stack is the host's from the run's start outward: several frames, this test's among them.
        let frames = try #require(object.map(named: "stackmap")?.stackTrace(id: Int(userStack)))
        #expect(frames.count >= 3 && frames.allSatisfy { $0 != 0 })

        let userOnly = try CompatSuite.load("profile") { try $0.setGlobal("user_stacks_only", to: [1]) }
        _ = try memory.run(userOnly.program(named: "do_perf_event"), context: context,
                           size: try memory.size(of: "bpf_perf_event_data"), checked: checked)
        #expect(try #require(userOnly.map(named: "counts")).keys.first?.integer(Int32.self, at: 8) == -1)
    }

    @Test("stackcount: one stack id counted per call site; bpf_get_stack copies the raw frames", arguments: CompatSuite.modes)
    func stackcount(checked: Bool) throws {
        let object = try CompatSuite.load("stackcount")
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let regs = try memory.make("pt_regs")
        try Self.sample(object.program(named: "count_stack"), memory, context: regs,
                        size: try memory.size(of: "pt_regs"), times: 2, checked: checked)
        let counts = try #require(object.map(named: "counts"))
        try #require(counts.keys.count == 1)
        let id = counts.keys[0].integer(Int32.self, at: 0)
        #expect(id >= 0 && counts.lookup(counts.keys[0]) == le(UInt64(2)))
        let frames = try #require(object.map(named: "stacks")?.stackTrace(id: Int(id)))
        // The raw stack holds the same frames, up to the 16 it has room for.
        let raw = try #require(object.map(named: "last_stack")?.keys.first.flatMap {
            object.map(named: "last_stack")?.lookup($0)
        })
        let size = raw.integer(Int64.self, at: 0)
        #expect(size == Int64(min(frames.count, 16) * 8))
        #expect((0..<Int(size / 8)).map { raw.integer(UInt64.self, at: 8 + $0 * 8) } == Array(frames.prefix(16)))
    }

    /// A recent kernel's task with `pid` in state `state`.
    static func task(_ memory: KernelMemory, pid: Int64, state: Int64, stateField: String = "__state") throws -> UInt64 {
        try memory.make("task_struct", ["pid": .integer(pid), "tgid": .integer(pid), stateField: .integer(state)])
    }

    @Test("offcputime: time off CPU per (pid, stack) from sched_switch's tasks, on a recent and an old kernel",
          arguments: CompatSuite.modes)
    func offcputime(checked: Bool) throws {
        for (kernel, stateField) in [(CompatSuite.newKernel, "__state"), (CompatSuite.oldKernel, "state")] {
            let btf = try #require(kernel)
            let object = try CompatSuite.load("offcputime", kernel: btf)
            let memory = KernelMemory(btf)
            let first = try Self.task(memory, pid: 100, state: 1, stateField: stateField)
            let second = try Self.task(memory, pid: 200, state: 0, stateField: stateField)
            let program = try object.program(named: "sched_switch")
            _ = try memory.run(program, slots: [0, first, second], checked: checked)
            _ = try memory.run(program, slots: [0, second, first], checked: checked)
            let offCPU = try #require(object.map(named: "off_cpu"))
            try #require(offCPU.keys.count == 1)
            #expect(offCPU.keys[0].integer(UInt32.self, at: 0) == 100 && offCPU.keys[0].integer(Int32.self, at: 4) >= 0)
            #expect(offCPU.lookup(offCPU.keys[0]).map { $0.integer(UInt64.self, at: 0) > 0 } == true)
            #expect(try #require(object.map(named: "starts")).keys.map { $0.integer(UInt32.self, at: 0) } == [200])
        }
        // Only tasks that switched out in state 2: the first task (state 1) is not stamped.
        let filtered = try CompatSuite.load("offcputime") { try $0.setGlobal("state_filter", to: le(Int64(2))) }
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        _ = try memory.run(filtered.program(named: "sched_switch"),
                           slots: [0, try Self.task(memory, pid: 100, state: 1), try Self.task(memory, pid: 200, state: 0)],
                           checked: checked)
        #expect(try #require(filtered.map(named: "starts")).count == 0)
    }

    @Test("runqlat: the wait between wake-up and switch-in goes to the process's histogram", arguments: CompatSuite.modes)
    func runqlat(checked: Bool) throws {
        for (target, expected) in [(Int32(0), 1), (300, 1), (999, 0)] {
            let object = try CompatSuite.load("runqlat") { try $0.setGlobal("target_tgid", to: le(target)) }
            let memory = KernelMemory(try #require(CompatSuite.newKernel))
            let woken = try Self.task(memory, pid: 300, state: 0)
            let sleeping = try Self.task(memory, pid: 1, state: 1)
            _ = try memory.run(object.program(named: "handle_wakeup"), slots: [woken], checked: checked)
            _ = try memory.run(object.program(named: "handle_switch"), slots: [0, sleeping, woken], checked: checked)
            let histogram = try #require(object.map(named: "latencies")).lookup(le(UInt32(300)))
            #expect((0..<20).reduce(0) { $0 + Int(histogram?.integer(UInt64.self, at: $1 * 8) ?? 0) } == expected)
            #expect(try #require(object.map(named: "wakeups")).count == 0)
        }
    }

    @Test("cgroup_execs: counted only under the cgroup in cgroup_map; outside and unset counted apart",
          arguments: CompatSuite.modes)
    func cgroupExecs(checked: Bool) throws {
        let context = ExecutionContext(cgroup: Cgroup(path: "/svc/web", id: 0))
        let object = try CompatSuite.load("cgroup_execs", context: context)
        let program = try object.program(named: "count_exec")
        func run() throws { _ = try program.suiteRun(context: [UInt8](repeating: 0, count: 16), checked: checked) }
        try run()
        let cgroups = try #require(object.map(named: "cgroup_map"))
        try cgroups.setCgroup("/svc", at: 0)
        try run()
        try run()
        try cgroups.setCgroup("/other", at: 0)
        try run()
        #expect(try object.global("unset", as: UInt64.self) == 1 && object.global("outside", as: UInt64.self) == 1)
        let counts = try #require(object.map(named: "execs_by_comm"))
        var key = Array(currentComm.utf8.prefix(15))
        key += [UInt8](repeating: 0, count: 16 - key.count)
        #expect(counts.lookup(key) == le(UInt64(2)) && counts.count == 1)
        // The host process's own cgroup, as /proc/self/cgroup gives it.
        #expect(ExecutionContext().cgroup.path == Cgroup.ofProcess.path)
    }

    @Test("cgroup_id_filter: syscalls counted per CPU only for the cgroup id in .rodata", arguments: CompatSuite.modes)
    func cgroupIDFilter(checked: Bool) throws {
        for (target, expected) in [(UInt64(777), UInt64(1)), (778, 0), (0, 1)] {
            let context = ExecutionContext(cgroup: Cgroup(path: "/svc", id: 777))
            let object = try CompatSuite.load("cgroup_id_filter", context: context) {
                try $0.setGlobal("target_cgroup_id", to: le(target))
            }
            let memory = KernelMemory(try #require(CompatSuite.newKernel))
            _ = try memory.run(object.program(named: "count_syscall"),
                               context: try memory.make("trace_event_raw_sys_enter", ["id": .integer(39)]),
                               size: try memory.size(of: "trace_event_raw_sys_enter"), checked: checked)
            #expect(try object.global("last_cgroup_id", as: UInt64.self) == 777)
            let copies = try #require(object.map(named: "syscalls")?.allValues(forKey: UInt32(39), as: UInt64.self))
            #expect(copies.reduce(0, +) == expected && copies[Map.currentThreadSlot] == expected)
        }
    }

    @Test("mapinmap_dispatch: counts land in the table the outer map gives for the active slot; tables swap",
          arguments: CompatSuite.modes)
    func mapInMapDispatch(checked: Bool) throws {
        let object = try CompatSuite.load("mapinmap_dispatch")
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let program = try object.program(named: "count_write")
        func write(fd: UInt64) throws {
            _ = try memory.run(program, context: try memory.make("trace_event_raw_sys_enter", ["args": .bytes(le(fd))]),
                               size: try memory.size(of: "trace_event_raw_sys_enter"), checked: checked)
        }
        try write(fd: 5)
        try write(fd: 5)
        try object.setGlobal("active_slot", to: le(UInt32(1)))
        try write(fd: 5)
        let tableA = try #require(object.map(named: "table_a")), tableB = try #require(object.map(named: "table_b"))
        #expect(tableA.value(forKey: UInt32(5), as: UInt64.self) == 2 && tableB.value(forKey: UInt32(5), as: UInt64.self) == 1)
        // The host swaps table_a into slot 1: counts follow the outer map, not the name.
        let tables = try #require(object.map(named: "tables"))
        try tables.setInnerMap(tableA, at: 1)
        try write(fd: 5)
        #expect(tableA.value(forKey: UInt32(5), as: UInt64.self) == 3)
        try tables.delete(le(UInt32(1)))
        try write(fd: 5)
        #expect(try object.global("missing_table", as: UInt64.self) == 1)
    }

    @Test("hash_of_maps_policy: the caller's uid finds its port table, made by the host from the template",
          arguments: CompatSuite.modes)
    func hashOfMapsPolicy(checked: Bool) throws {
        let uid = UInt32(getuid())
        let object = try CompatSuite.load("hash_of_maps_policy") { object in
            var definition = try #require(object.map(named: "policies")?.definition.innerMap)
            definition.name = "policy_\(uid)"
            let table = try object.addMap(definition)
            try table.update(le(UInt32(443)), [1])
            try #require(object.map(named: "policies")).setInnerMap(table, forKey: le(uid))
        }
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let program = try object.program(named: "check_port")
        func bind(_ port: Int64) throws -> Int32 {
            Int32(truncatingIfNeeded: try memory.run(program, context: try memory.make("pt_regs", ["di": .integer(port)]),
                                                     size: try memory.size(of: "pt_regs"), checked: checked))
        }
        #expect(try bind(443) == 0 && bind(22) == -1)
        try #require(object.map(named: "policies")).delete(le(uid))
        #expect(try bind(22) == 0)
        #expect(try [object.global("allowed", as: UInt64.self), object.global("denied", as: UInt64.self),
                     object.global("unmanaged", as: UInt64.self)] == [1, 1, 1])
    }
}
