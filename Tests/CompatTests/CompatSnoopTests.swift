import Foundation
import Testing
import BPFVM

/// The snoopers of the suite (perf buffers, per-thread state in hash maps, CO-RE on contexts and
/// kernel structs), run with contexts laid out as the recent target kernel lays them out.
@Suite("Compatibility suite: snoopers with perf buffers", .enabled(if: CompatSuite.isBuilt, CompatSuite.skipReason))
struct CompatSnoopTests {
    static let pid = UInt32(getpid())
    static let uid = UInt32(getuid())

    /// The records of perf event array `map`, with the buffer each came from.
    static func records(_ object: LoadedObject, _ map: String = "events") throws -> [(slot: Int, data: [UInt8])] {
        try #require(object.map(named: map)).consumeAllPerfRecords()
    }

    /// A sys_enter context with `arguments` and a sys_exit context returning `result`.
    static func syscallContexts(_ memory: KernelMemory, id: Int64, arguments: [UInt64], result: Int64) throws
        -> (enter: (UInt64, Int), exit: (UInt64, Int))
    {
        let enter = try memory.make("trace_event_raw_sys_enter", [
            "id": .integer(id), "args": .bytes(arguments.flatMap { le($0) }),
        ])
        let exit = try memory.make("trace_event_raw_sys_exit", ["id": .integer(id), "ret": .integer(result)])
        return ((enter, try memory.size(of: "trace_event_raw_sys_enter")),
                (exit, try memory.size(of: "trace_event_raw_sys_exit")))
    }

    /// Runs execsnoop's entry then exit for an exec of /usr/bin/env with three arguments.
    static func exec(_ object: LoadedObject, result: Int64, checked: Bool) throws {
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let argv = memory.words([memory.string("env"), memory.string("-i"), memory.string("HOME=/"), 0])
        let (enter, exit) = try syscallContexts(memory, id: 59, arguments: [memory.string("/usr/bin/env"), argv, 0],
                                                result: result)
        _ = try memory.run(object.program(named: "trace_enter"), context: enter.0, size: enter.1, checked: checked)
        _ = try memory.run(object.program(named: "trace_exit"), context: exit.0, size: exit.1, checked: checked)
    }

    @Test("execsnoop: one event per exec, with the file, arguments and result; the thread's entry is gone",
          arguments: CompatSuite.modes)
    func execsnoop(checked: Bool) throws {
        let object = try CompatSuite.load("execsnoop")
        try Self.exec(object, result: 0, checked: checked)
        let records = try Self.records(object)
        try #require(records.count == 1)
        let event = records[0].data
        #expect(records[0].slot == Map.currentThreadSlot)
        #expect(event.count == 120)
        #expect(event.integer(UInt32.self, at: 0) == Self.pid && event.integer(UInt32.self, at: 4) == Self.uid)
        #expect(event.integer(Int64.self, at: 8) == 0 && event.integer(UInt32.self, at: 16) == 3)
        #expect(event.string(at: 24, count: 16) == currentComm)
        #expect(event.string(at: 40, count: 32) == "/usr/bin/env")
        #expect([72, 88, 104].map { event.string(at: $0, count: 16) } == ["env", "-i", "HOME=/"])
        #expect(try #require(object.map(named: "execs")).count == 0)
    }

    @Test("execsnoop's options: failed execs ignored, another uid, the cgroup filter", arguments: CompatSuite.modes)
    func execsnoopOptions(checked: Bool) throws {
        let ignoring = try CompatSuite.load("execsnoop") { try $0.setGlobal("ignore_failed", to: [1]) }
        try Self.exec(ignoring, result: -2, checked: checked)
        try Self.exec(ignoring, result: 0, checked: checked)
        #expect(try Self.records(ignoring).map { $0.data.integer(Int64.self, at: 8) } == [0])

        let otherUser = try CompatSuite.load("execsnoop") { try $0.setGlobal("target_uid", to: le(Self.uid &+ 1)) }
        try Self.exec(otherUser, result: 0, checked: checked)
        #expect(try Self.records(otherUser).isEmpty)

        // The runs' task is in /system.slice/web.service; the filter keeps /system.slice.
        let context = ExecutionContext(cgroup: Cgroup(path: "/system.slice/web.service", id: 77))
        let filtered = try CompatSuite.load("execsnoop", context: context) { object in
            try object.setGlobal("filter_cgroup", to: [1])
            try #require(object.map(named: "cgroup_map")).setCgroup("/system.slice", at: 0)
        }
        try Self.exec(filtered, result: 0, checked: checked)
        #expect(try Self.records(filtered).count == 1)
        try #require(filtered.map(named: "cgroup_map")).setCgroup("/user.slice", at: 0)
        try Self.exec(filtered, result: 0, checked: checked)
        #expect(try Self.records(filtered).isEmpty)
    }

    /// Runs opensnoop's entry and exit for an openat of `path` returning `result`.
    static func open(_ object: LoadedObject, _ path: String, flags: UInt64, result: Int64, checked: Bool) throws {
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let (enter, exit) = try syscallContexts(memory, id: 257,
                                                arguments: [UInt64(bitPattern: -100), memory.string(path), flags],
                                                result: result)
        _ = try memory.run(object.program(named: "trace_openat_enter"), context: enter.0, size: enter.1, checked: checked)
        _ = try memory.run(object.program(named: "trace_openat_exit"), context: exit.0, size: exit.1, checked: checked)
    }

    @Test("opensnoop: path, flags and descriptor per open; only failures; only one process", arguments: CompatSuite.modes)
    func opensnoop(checked: Bool) throws {
        let object = try CompatSuite.load("opensnoop")
        try Self.open(object, "/etc/hosts", flags: 0o2_000_000, result: 3, checked: checked)
        let records = try Self.records(object)
        try #require(records.count == 1)
        let event = records[0].data
        #expect(event.integer(UInt32.self, at: 0) == Self.pid && event.integer(Int32.self, at: 4) == 0o2_000_000)
        #expect(event.integer(Int64.self, at: 8) == 3 && event.string(at: 32, count: 64) == "/etc/hosts")
        #expect(try #require(object.map(named: "start")).count == 0)

        let failures = try CompatSuite.load("opensnoop") { try $0.setGlobal("failed_only", to: [1]) }
        try Self.open(failures, "/etc/hosts", flags: 0, result: 3, checked: checked)
        try Self.open(failures, "/nope", flags: 0, result: -2, checked: checked)
        #expect(try Self.records(failures).map { $0.data.string(at: 32, count: 64) } == ["/nope"])
        #expect(try #require(failures.map(named: "start")).count == 0)

        let other = try CompatSuite.load("opensnoop") { try $0.setGlobal("target_tgid", to: le(Self.pid &+ 1)) }
        try Self.open(other, "/etc/hosts", flags: 0, result: 3, checked: checked)
        #expect(try Self.records(other).isEmpty)
    }

    static func kill(_ object: LoadedObject, target: Int32, signal: Int32, result: Int64, checked: Bool) throws {
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let (enter, exit) = try syscallContexts(memory, id: 62, arguments: [UInt64(UInt32(bitPattern: target)),
                                                                           UInt64(signal)], result: result)
        _ = try memory.run(object.program(named: "kill_entry"), context: enter.0, size: enter.1, checked: checked)
        _ = try memory.run(object.program(named: "kill_exit"), context: exit.0, size: exit.1, checked: checked)
    }

    @Test("killsnoop: events go to the perf buffer .rodata names; a buffer past the array's end loses them",
          arguments: CompatSuite.modes)
    func killsnoop(checked: Bool) throws {
        for (index, expected) in [(UInt32(0), [0]), (3, [3]), (4, [])] {
            let object = try CompatSuite.load("killsnoop") { try $0.setGlobal("buffer_index", to: le(index)) }
            try Self.kill(object, target: 4242, signal: 15, result: -3, checked: checked)
            let records = try Self.records(object)
            #expect(records.map(\.slot) == expected)
            if let event = records.first?.data {
                #expect(event.integer(Int32.self, at: 4) == 4242 && event.integer(Int32.self, at: 8) == 15)
                #expect(event.integer(Int32.self, at: 12) == -3 && event.string(at: 16, count: 16) == currentComm)
            }
        }
        let onlyKill = try CompatSuite.load("killsnoop") { try $0.setGlobal("target_signal", to: le(Int32(9))) }
        try Self.kill(onlyKill, target: 1, signal: 15, result: 0, checked: checked)
        try Self.kill(onlyKill, target: 1, signal: 9, result: 0, checked: checked)
        #expect(try Self.records(onlyKill).map { $0.data.integer(Int32.self, at: 8) } == [9])
    }

    @Test("bindsnoop: the bound port and protocol come from the socket's struct sock through its anonymous unions",
          arguments: CompatSuite.modes)
    func bindsnoop(checked: Bool) throws {
        let object = try CompatSuite.load("bindsnoop")
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let sock = try memory.make("sock", ["__sk_common.skc_num": .integer(8080), "__sk_common.skc_family": .integer(2),
                                            "sk_protocol": .integer(6)])
        let socket = try memory.make("socket", ["sk": .pointer(sock)])
        let regsSize = try memory.size(of: "pt_regs")
        _ = try memory.run(object.program(named: "ipv4_bind_entry"),
                           context: try memory.make("pt_regs", ["di": .pointer(socket)]), size: regsSize, checked: checked)
        _ = try memory.run(object.program(named: "ipv4_bind_exit"),
                           context: try memory.make("pt_regs", ["ax": .integer(0)]), size: regsSize, checked: checked)
        let records = try Self.records(object)
        try #require(records.count == 1)
        let event = records[0].data
        #expect(event.integer(UInt32.self, at: 0) == Self.pid)
        #expect(event.integer(UInt16.self, at: 4) == 8080 && event.integer(UInt16.self, at: 6) == 6)
        #expect(event.integer(Int32.self, at: 8) == 0 && event.integer(UInt32.self, at: 12) == 2)
    }

    /// A connect of a socket from 10.0.0.2:5555 to 127.0.0.1:`port` returning `result`.
    static func connect(_ object: LoadedObject, port: UInt16, result: Int64, checked: Bool) throws {
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let sock = try memory.make("sock", [
            "__sk_common.skc_daddr": .bytes([127, 0, 0, 1]), "__sk_common.skc_rcv_saddr": .bytes([10, 0, 0, 2]),
            "__sk_common.skc_dport": .bytes(le(port.bigEndian)), "__sk_common.skc_num": .integer(5555),
        ])
        let regsSize = try memory.size(of: "pt_regs")
        _ = try memory.run(object.program(named: "tcp_v4_connect_entry"),
                           context: try memory.make("pt_regs", ["di": .pointer(sock)]), size: regsSize, checked: checked)
        _ = try memory.run(object.program(named: "tcp_v4_connect_exit"),
                           context: try memory.make("pt_regs", ["ax": .integer(result)]), size: regsSize, checked: checked)
    }

    @Test("tcpconnect: addresses and ports from sock_common's unions, counts per port, the port filter, failures",
          arguments: CompatSuite.modes)
    func tcpconnect(checked: Bool) throws {
        let object = try CompatSuite.load("tcpconnect")
        try Self.connect(object, port: 443, result: 0, checked: checked)
        try Self.connect(object, port: 443, result: 0, checked: checked)
        try Self.connect(object, port: 80, result: -111, checked: checked)
        let records = try Self.records(object)
        #expect(records.count == 2)
        let event = try #require(records.first?.data)
        #expect(event.integer(UInt32.self, at: 0) == Self.pid)
        #expect(Array(event[4..<8]) == [10, 0, 0, 2] && Array(event[8..<12]) == [127, 0, 0, 1])
        #expect(event.integer(UInt16.self, at: 12) == 443 && event.integer(UInt16.self, at: 14) == 5555)
        let counts = try #require(object.map(named: "connects_by_port"))
        #expect(counts.value(forKey: UInt16(443), as: UInt64.self) == 2 && counts.count == 1)
        #expect(try #require(object.map(named: "sockets")).count == 0)

        let filtered = try CompatSuite.load("tcpconnect") { object in
            try object.setGlobal("filter_ports", to: le(UInt16(80)) + [UInt8](repeating: 0, count: 6))
            try object.setGlobal("filter_port_count", to: le(UInt32(1)))
        }
        try Self.connect(filtered, port: 443, result: 0, checked: checked)
        try Self.connect(filtered, port: 80, result: 0, checked: checked)
        #expect(try Self.records(filtered).map { $0.data.integer(UInt16.self, at: 12) } == [80])
    }

    @Test("file_path: the opened file's name and inode through the dentry's and qstr's anonymous unions",
          arguments: CompatSuite.modes)
    func filePath(checked: Bool) throws {
        let object = try CompatSuite.load("file_path")
        let memory = KernelMemory(try #require(CompatSuite.newKernel))
        let inode = try memory.make("inode", ["i_ino": .integer(4242)])
        let dentry = try memory.make("dentry", ["d_name.len": .integer(5), "d_name.name": .pointer(memory.string("hosts"))])
        let file = try memory.make("file", ["f_path.dentry": .pointer(dentry), "f_inode": .pointer(inode),
                                            "f_flags": .integer(0o100_000)])
        _ = try memory.run(object.program(named: "trace_vfs_open"),
                           context: try memory.make("pt_regs", ["si": .pointer(file)]),
                           size: try memory.size(of: "pt_regs"), checked: checked)
        let records = try Self.records(object)
        try #require(records.count == 1)
        let event = records[0].data
        #expect(event.integer(UInt64.self, at: 0) == 4242 && event.integer(UInt32.self, at: 8) == 5)
        #expect(event.integer(UInt32.self, at: 12) == 0o100_000 && event.string(at: 16, count: 48) == "hosts")
    }
}
