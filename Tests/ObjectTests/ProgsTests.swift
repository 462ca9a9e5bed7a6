import Foundation
import Testing
import BPFVM
import JIT

@Suite("progs/: every object loads, links and runs as its README says", .enabled(if: Progs.isBuilt, Progs.skipReason))
struct ProgsTests {
    @Test("every object parses, every program links and binds", arguments: Progs.names)
    func loads(_ name: String) throws {
        let object = try Progs.object(name)
        let loaded = try LoadedObject(object)
        try loaded.load(targetBTF: try Progs.hostBTF())
        #expect(loaded.programs.count == object.programs.count)
        for program in loaded.programs {
            #expect(program.linked.metadata.license == object.license)
            // Function and line info are rebased onto the linked program.
            #expect(program.linked.metadata.functions.first?.instructionIndex == 0)
            #expect(program.linked.metadata.functions.first?.name == program.name)
            #expect(!program.linked.metadata.lines.isEmpty)
            let lines = program.linked.metadata.lines.map(\.instructionIndex)
            #expect(lines == lines.sorted())
            #expect(lines.allSatisfy { $0 < program.linked.instructions.count })
        }
    }

    /// Every program runs in the interpreter, checked and trusted, and JIT-compiled.
    static let modes = Engine.allCases

    @Test("hash_counter counts per port with NOEXIST/ANY updates", arguments: modes)
    func hashCounter(engine: Engine) throws {
        let object = try Progs.load("hash_counter")
        let program = try object.program(named: "count_send")
        let memory = HookMemory()
        for slots: [UInt64] in [[0x0a00_0001, 443, 100, 100], [0x0a00_0002, 443, 50, 50],
                                [0x0a00_0001, 80, 10, UInt64(bitPattern: -104)]] {
            #expect(try memory.run(program, slots: slots, engine: engine) == 0)
        }
        let stats = try #require(object.map(named: "send_stats"))
        #expect(stats.lookup(le(UInt32(443))) == le(UInt64(2)) + le(UInt64(150)) + le(UInt64(0)))
        #expect(stats.lookup(le(UInt32(80))) == le(UInt64(0)) + le(UInt64(0)) + le(UInt64(1)))
        #expect(stats.keys.count == 2)
        let peers = try #require(object.map(named: "last_peer"))
        #expect(peers.lookup(le(UInt32(443))) == le(UInt32(0x0a00_0002)))
        #expect(peers.keys.count == 1)
    }

    /// struct sock_addr: family, port (network order), address 10.0.0.1.
    static func socketAddress(family: UInt16, port: UInt16) -> [UInt8] {
        le(family) + le(port.bigEndian) + [10, 0, 0, 1]
    }

    @Test("fmod_ret refuses plaintext ports with -EPERM and keeps an earlier verdict", arguments: modes)
    func fmodReturn(engine: Engine) throws {
        let object = try Progs.load("fmod_ret_connect")
        let program = try object.program(named: "deny_plaintext_connect")
        let memory = HookMemory()
        let telnet = memory.buffer(Self.socketAddress(family: 2, port: 23))
        let https = memory.buffer(Self.socketAddress(family: 2, port: 443))
        let telnet6 = memory.buffer(Self.socketAddress(family: 10, port: 23))
        let results = try [[telnet, 8, 0], [https, 8, 0], [telnet6, 8, 0], [telnet, 4, 0],
                           [telnet, 8, UInt64(bitPattern: -13)]].map { int32(try memory.run(program, slots: $0, engine: engine)) }
        #expect(results == [-1, 0, 0, 0, -13])
        #expect(try object.global("connects_checked", as: UInt64.self) == 4)
        #expect(try object.global("connects_denied", as: UInt64.self) == 1)
        #expect(try object.global("last_denied_port", as: UInt16.self) == 23)
    }

    @Test("globals: .rodata configured before load, every data section, fault injection", arguments: modes)
    func globals(engine: Engine) throws {
        let object = try Progs.load("globals")
        #expect(try object.global("fail_every", as: UInt32.self) == 3)
        #expect(try object.global("max_alloc", as: UInt64.self) == 1_048_576)
        #expect(try object.global("stats", as: UInt64.self, at: 24) == 0xfa017)
        let program = try object.program(named: "inject_alloc_fault")
        let memory = HookMemory()
        var results: [Int32] = []
        for size: UInt64 in [100, 200, 300, 2_000_000, 400, 500, 600] {
            results.append(int32(try memory.run(program, slots: [size, 0, 0], engine: engine)))
        }
        #expect(results == [0, 0, -12, -7, 0, 0, -12])
        #expect(try object.global("calls", as: UInt64.self) == 7)
        #expect(try object.global("injected", as: UInt64.self) == 3)
        #expect(try object.global("nth_counter", as: UInt64.self) == 6)
        #expect(try object.global("generation", as: UInt32.self) == 10)
        #expect(try object.global("stats", as: UInt64.self, at: 0) == 1)
        #expect(try object.global("stats", as: UInt64.self, at: 8) == 2)
        #expect(try object.global("stats", as: UInt64.self, at: 16) == 600)
        // .rodata is frozen once loaded; .data stays writable.
        #expect(throws: GlobalVariableError.readOnlyAfterLoad("fail_every")) {
            try object.setGlobal("fail_every", to: le(UInt32(0)))
        }
        try object.setGlobal("enabled", to: le(UInt32(0)))
        #expect(int32(try memory.run(program, slots: [300, 0, 0], engine: engine)) == 0)
    }

    @Test("globals: .rodata set before load changes the program's behaviour")
    func rodataBeforeLoad() throws {
        let object = try Progs.load("globals") { try $0.setGlobal("fault_errno", to: le(Int32(5))) }
        let program = try object.program(named: "inject_alloc_fault")
        let memory = HookMemory()
        let results = try [UInt64(100), 200, 300].map { int32(try memory.run(program, slots: [$0, 0, 0])) }
        #expect(results == [0, 0, -5])
        #expect(throws: GlobalVariableError.wrongSize("fault_errno", expected: 4, given: 8)) {
            try LoadedObject(Progs.object("globals")).setGlobal("fault_errno", to: le(UInt64(5)))
        }
        #expect(throws: GlobalVariableError.noSuchVariable("nope")) {
            try LoadedObject(Progs.object("globals")).setGlobal("nope", to: [])
        }
    }

    @Test("subprogs: global and static subprograms, calls two deep", arguments: modes)
    func subprograms(engine: Engine) throws {
        let object = try Progs.load("subprogs")
        let program = try object.program(named: "classify_send")
        #expect(program.linked.metadata.functions.map(\.name) == ["classify_send", "port_class", "flow_hash", "mix32",
                                                                 "clamp_len"]
                || program.linked.metadata.functions.count == 5)
        let memory = HookMemory()
        var hashes: [UInt32] = []
        for slots: [UInt64] in [[0x0a00_0001, 443, 100, 100], [0x0a00_0001, 8080, 3000, 3000],
                                [0x0a00_0001, 55000, 10, UInt64(bitPattern: -32)]] {
            #expect(try memory.run(program, slots: slots, engine: engine) == 0)
            hashes.append(try object.global("last_hash", as: UInt32.self))
        }
        #expect(hashes == [0x5414_c69e, 0x2a83_c40b, 0xf192_6cbc])
        #expect(try object.global("clamped_bytes", as: UInt64.self) == 1600)
        let classes = try #require(object.map(named: "class_counts"))
        for index: UInt32 in 0..<3 { #expect(classes.lookup(le(index)) == le(UInt64(1))) }
    }

    @Test("bpf_loop calls its callback and stops early", arguments: modes)
    func bpfLoop(engine: Engine) throws {
        let object = try Progs.load("bpf_loop")
        let program = try object.program(named: "alloc_order")
        let memory = HookMemory()
        var iterations: [Int64] = []
        for size: UInt64 in [100, 4096, 5000, 1_048_576, 8_388_608, 16_777_216] {
            #expect(try memory.run(program, slots: [size, 0], engine: engine) == 0)
            iterations.append(try object.global("last_iterations", as: Int64.self))
        }
        #expect(iterations == [1, 1, 2, 9, 12, 12])
        let histogram = try #require(object.global("order_hist"))
        let counts = (0..<12).map { histogram[($0 * 8)..<($0 * 8 + 8)].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }
        #expect(counts == [2, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1])
        #expect(try object.global("too_large", as: UInt64.self) == 1)
    }

    @Test("ring buffer: submitted and output records reach the consumer, discarded ones do not", arguments: modes)
    func ringBuffer(engine: Engine) throws {
        let object = try Progs.load("ringbuf")
        let program = try object.program(named: "emit_send_event")
        let memory = HookMemory()
        for slots: [UInt64] in [[0x0a00_0001, 443, 100, 100], [0x0a00_0002, 80, 0, 0],
                                [0x0a00_0003, 53, 64, UInt64(bitPattern: -111)]] {
            #expect(try memory.run(program, slots: slots, engine: engine) == 0)
        }
        var records: [[UInt8]] = []
        _ = try #require(object.map(named: "events")).consume { records.append(Array($0)) }
        #expect(records == [
            le(UInt64(1)) + le(UInt32(0x0a00_0001)) + le(UInt16(443)) + le(UInt16(1)) + le(UInt32(100)) + le(UInt32(100)),
            le(UInt64(3)) + le(UInt32(0x0a00_0003)) + le(UInt16(53)) + le(UInt16(2)) + le(UInt32(64)) + le(Int32(-111)),
        ])
        #expect(try object.global("discarded", as: UInt64.self) == 1)
    }

    @Test("bpf_printk with 7 arguments (trace_vprintk) and with 0 and 2 (trace_printk)", arguments: modes)
    func printk(engine: Engine) throws {
        let object = try Progs.load("printk")
        let program = try object.program(named: "log_send")
        let memory = HookMemory()
        for slots: [UInt64] in [[0x0a00_0001, 443, 100, 100], [0x0a00_0001, 443, 100, 60],
                                [0x0a00_0001, 53, 64, UInt64(bitPattern: -111)], [0x0a00_0001, 80, 0, 0]] {
            #expect(try memory.run(program, slots: slots, engine: engine) == 0)
        }
        #expect(object.context.trace.drain() == [
            "send: 10.0.0.1:443 len=100 ret=100", "send: 10.0.0.1:443 len=100 ret=60", "short send: 60 of 100",
            "send failed: port=53 err=-111", "send: nothing to send",
        ])
    }

    /// struct request (56 bytes) with method, len and path.
    static func request(method: UInt32, length: UInt32, path: String) -> [UInt8] {
        let pathBytes = Array(path.utf8.prefix(32))
        return le(UInt64(1)) + le(method) + le(length) + [0, 0, 1, 0] + pathBytes
            + [UInt8](repeating: 0, count: 32 - pathBytes.count) + [0, 0, 0, 0]
    }

    @Test("tail calls through a program array initialised in the object", arguments: modes)
    func tailCalls(engine: Engine) throws {
        let object = try Progs.load("tail_call")
        let program = try object.program(named: "dispatch_request")
        let memory = HookMemory()
        var results: [Int32] = []
        for (method, length): (UInt32, UInt32) in [(0, 0), (1, 100), (1, 5000), (2, 0), (3, 0), (9, 0)] {
            let request = memory.buffer(Self.request(method: method, length: length, path: "/"))
            results.append(int32(try memory.run(program, slots: [request, 0], engine: engine)))
        }
        #expect(results == [0, 0, -7, -1, 0, 0])
        #expect(try object.global("dispatched", as: UInt64.self) == 6)
        #expect(try object.global("fallthrough", as: UInt64.self) == 2)
        #expect(try object.global("gets", as: UInt64.self) == 1)
        #expect(try object.global("puts_rejected", as: UInt64.self) == 1)
        #expect(try object.global("deletes_rejected", as: UInt64.self) == 1)
    }

    @Test("bounded loop: FNV-1a over the request path", arguments: modes)
    func boundedLoop(engine: Engine) throws {
        let object = try Progs.load("bounded_loop")
        let program = try object.program(named: "analyze_path")
        let memory = HookMemory()
        let expected: [(String, UInt64, UInt32, UInt32)] = [
            ("/api/v1/users", 0xb0ba_da58_577b_0ef9, 13, 3), ("/a/b/c/d/e", 0x96d4_17cf_9649_2351, 10, 5),
            (String(repeating: "x", count: 32), 0x9fa5_5ea5_892d_4da5, 32, 0),
        ]
        for (path, hash, length, depth) in expected {
            let request = memory.buffer(Self.request(method: 0, length: 0, path: path))
            #expect(try memory.run(program, slots: [request, 200], engine: engine) == 0)
            #expect(try object.global("last_path", as: UInt64.self) == hash)
            #expect(try object.global("last_path", as: UInt32.self, at: 8) == length)
            #expect(try object.global("last_path", as: UInt32.self, at: 12) == depth)
        }
    }

    /// struct inode with i_ino, and a struct file pointing to it.
    static func file(in memory: HookMemory, inode: UInt64) -> UInt64 {
        let inodeAddress = memory.buffer(le(inode) + le(UInt32(1000)) + le(UInt32(1000)) + le(UInt16(0x81a4))
                                         + le(UInt16(1)) + [0, 0, 0, 0] + le(UInt64(512)))
        let path = Array("/etc/app.conf".utf8)
        return memory.buffer(le(inodeAddress) + le(UInt32(0x42)) + le(UInt16(3)) + [0, 0] + le(UInt64(0))
                             + path + [UInt8](repeating: 0, count: 32 - path.count))
    }

    @Test("lsm policies: a host-filled hash map and the pid-1 guard", arguments: modes)
    func lsm(engine: Engine) throws {
        let object = try Progs.load("lsm_policy")
        try #require(object.map(named: "protected_inodes")).update(le(UInt64(4242)), le(UInt32(2)))
        let permission = try object.program(named: "restrict_file_permission")
        let memory = HookMemory()
        let file = Self.file(in: memory, inode: 4242)
        let file7 = Self.file(in: memory, inode: 7)
        let permissions = try [(file, UInt64(2)), (file, 4), (file, 6), (file7, 2)].map {
            int32(try memory.run(permission, slots: [$0.0, $0.1, 0], engine: engine))
        }
        #expect(permissions == [-1, 0, -1, 0])
        let kill = try object.program(named: "protect_init")
        let kills = try [(UInt64(1), UInt64(9)), (1, 19), (1, 15), (UInt64(bitPattern: -1), 9), (UInt64(bitPattern: -1), 15),
                         (42, 9)].map { int32(try memory.run(kill, slots: [$0.0, $0.1, 0], engine: engine)) }
        #expect(kills == [-1, -1, 0, -1, 0, 0])
        #expect(try object.global("file_denials", as: UInt64.self) == 2)
        #expect(try object.global("kill_denials", as: UInt64.self) == 3)
    }

    @Test("fexit with CO-RE: field reads resolved against the host's types", arguments: modes)
    func fexitCORE(engine: Engine) throws {
        let object = try Progs.load("fexit_file_open")
        let program = try object.program(named: "trace_file_open")
        let memory = HookMemory()
        let file = Self.file(in: memory, inode: 4242)
        #expect(try memory.run(program, slots: [file, 0x42, 0], engine: engine) == 0)
        #expect(try memory.run(program, slots: [file, 0, UInt64(bitPattern: -2)], engine: engine) == 0)
        #expect(object.context.trace.drain() == ["open: ino=4242 flags=66 ret=0", "open: ino=4242 flags=0 ret=-2"])
        #expect(try object.global("last_open", as: UInt64.self) == 4242)
        #expect(try object.global("last_open", as: UInt32.self, at: 12) == 0x42)
        #expect(try object.global("last_open", as: UInt16.self, at: 16) == 3)
        // struct file___v2::f_version does not exist in the host's struct file.
        #expect(try object.global("last_open", as: UInt16.self, at: 18) == 0)
        #expect(try object.global("last_open", as: Int32.self, at: 20) == -2)
        #expect(try object.global("last_open", as: UInt32.self, at: 24) == 32)
        #expect(try object.global("opens_ok", as: UInt64.self) == 1)
        #expect(try object.global("opens_failed", as: UInt64.self) == 1)
    }

    @Test("without a target BTF, CO-RE keeps the compiled-in local values")
    func coreLocal() throws {
        let loaded = try LoadedObject(Progs.object("fexit_file_open"))
        try loaded.load()
        let memory = HookMemory()
        let file = Self.file(in: memory, inode: 1)
        _ = try memory.run(try loaded.program(named: "trace_file_open"), slots: [file, 0, 0])
        #expect(try loaded.global("last_open", as: UInt16.self, at: 18) == 1)
    }

    @Test("queue map push/pop/peek and the current-task helpers", arguments: modes)
    func taskQueue(engine: Engine) throws {
        let object = try Progs.load("task_queue")
        let enter = try object.program(named: "kill_enter")
        let exit = try object.program(named: "kill_exit")
        let memory = HookMemory()
        #expect(try memory.run(enter, slots: [42, 15], engine: engine) == 0)
        #expect(try object.global("last_caller", as: UInt64.self) >> 32 == UInt64(getpid()))
        #expect(try memory.run(exit, slots: [42, 15, 0], engine: engine) == 0)
        #expect(try object.global("last_result", as: Int32.self, at: 8) == 42)
        #expect(try object.global("last_result", as: Int32.self, at: 20) == -1)
        #expect(try memory.run(enter, slots: [7, 9], engine: engine) == 0)
        #expect(try memory.run(enter, slots: [8, 2], engine: engine) == 0)
        #expect(try memory.run(exit, slots: [7, 9, UInt64(bitPattern: -1)], engine: engine) == 0)
        #expect(try object.global("last_result", as: Int32.self, at: 20) == 2)
        #expect(try memory.run(exit, slots: [8, 2, 0], engine: engine) == 0)
        #expect(try memory.run(exit, slots: [1, 1, 0], engine: engine) == 0)
        #expect(try object.global("completed", as: UInt64.self) == 3)
        #expect(try object.global("orphans", as: UInt64.self) == 1)
    }

    @Test("probe_read_user and bpf_snprintf", arguments: modes)
    func configLog(engine: Engine) throws {
        let object = try Progs.load("config_log")
        let program = try object.program(named: "log_config_set")
        let memory = HookMemory()
        for (key, length, value, expected) in [("log_level", UInt64(9), UInt64(3), "log_level=3"),
                                               ("a_very_long_configuration_key", 29, 42, "a_very_long_con=42"),
                                               ("log_level", 3, 5, "log=5"), ("log_level", 0, 5, "=5")] {
            let keyAddress = memory.buffer(Array(key.utf8))
            #expect(try memory.run(program, slots: [keyAddress, length, value], engine: engine) == 0)
            let setting = try #require(object.global("last_setting"))
            #expect(String(decoding: setting.prefix(while: { $0 != 0 }), as: UTF8.self) == expected)
            #expect(try object.global("last_len", as: Int64.self) == Int64(expected.utf8.count + 1))
        }
    }

    @Test("a socket filter reads its context as raw memory", arguments: modes)
    func socketFilter(engine: Engine) throws {
        let object = try Progs.load("sock_filter")
        let program = try object.program(named: "sock_ipv4_snap")
        var results: [UInt64] = []
        for (length, proto): (UInt32, [UInt8]) in [(32, [8, 0, 0, 0]), (186, [8, 0, 0, 0]), (28, [8, 6, 0, 0]), (0, [0, 0, 0, 0])] {
            var context = [UInt8](repeating: 0, count: 192)
            context.replaceSubrange(0..<4, with: le(length))
            context.replaceSubrange(16..<20, with: proto)
            results.append(try context.withUnsafeMutableBytes { try engine.run(program, memory: $0) })
        }
        #expect(results == [32, 96, 0, 0])
        let verdicts = try #require(object.map(named: "verdicts"))
        #expect(verdicts.lookup(le(UInt32(0))) == le(UInt64(2)))
        #expect(verdicts.lookup(le(UInt32(1))) == le(UInt64(2)))
    }

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.filter { !$0.isWhitespace })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    @Test("xdp: packets through an xdp_md context, an LRU hash per source", arguments: modes)
    func xdp(engine: Engine) throws {
        let object = try Progs.load("xdp_firewall")
        let program = try object.program(named: "xdp_firewall")
        let ethernet = "020000000002 020000000001 "
        let p1 = Self.hex(ethernet + "0800 450000200000000040110000c00002010a000001 30392bcb000c0000 73746174")
        var p6 = p1
        p6[14] = 0x44
        let packets = [
            p1,
            Self.hex(ethernet + "0800 450000280000000040060000c00002010a000001 3039005000000000000000005002ffff00000000"),
            Self.hex("ffffffffffff 020000000001 0806 0001080006040001 020000000001 c0000201 000000000000 0a000001"),
            Self.hex(ethernet + "0800 450000140000"),
            Self.hex(ethernet + "0800 450000200000000040110000c63364070a000001 303900350008000073746174"),
            p6,
        ]
        let verdicts = try packets.map { try engine.testRun(program, input: $0).result }
        #expect(verdicts == [1, 2, 2, 1, 2, 1])
        let sources = try #require(object.map(named: "src_packets"))
        #expect(sources.keys.count == 2)
        #expect(sources.lookup([0xc0, 0x00, 0x02, 0x01]) == le(UInt64(2)))
        #expect(sources.lookup([0xc6, 0x33, 0x64, 0x07]) == le(UInt64(1)))
    }

    @Test("array and per-thread array maps", arguments: modes)
    func arrayMaps(engine: Engine) throws {
        let object = try Progs.load("array_maps")
        let program = try object.program(named: "account_alloc")
        let memory = HookMemory()
        for size: UInt64 in [16, 100, 4096, 5000, 2_097_152] {
            #expect(try memory.run(program, slots: [size, 0], engine: engine) == 0)
        }
        let classes = try #require(object.map(named: "alloc_classes"))
        #expect((0..<4).map { classes.lookup(le(UInt32($0))) } == [1, 2, 1, 1].map { le(UInt64($0)) })
        let stats = try #require(object.map(named: "alloc_stats"))
        #expect(stats.lookup(le(UInt32(0))) == le(UInt64(5)) + le(UInt64(2_106_364)) + le(UInt64(2_097_152)))
    }
}

@Suite("Loaded objects are freed", .enabled(if: Progs.isBuilt, Progs.skipReason))
struct LoadedObjectLifetimeTests {
    @Test("an object whose program array holds its own programs is freed when dropped")
    func programArrayCycle() throws {
        weak var weakObject: LoadedObject?
        weak var weakMap: Map?
        do {
            let object = try Progs.load("tail_call")
            weakObject = object
            weakMap = object.map(named: "method_checks")
            #expect(weakMap?.program(at: 0) != nil)
        }
        #expect(weakObject == nil)
        #expect(weakMap == nil)
    }
}
