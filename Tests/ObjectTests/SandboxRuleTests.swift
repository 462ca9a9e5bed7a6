import Testing
import BPFVM

/// What checked mode allows besides what it stops: callbacks inside tail-called programs,
/// helper sets per program kind, the host's switch for reading host memory, and a ring
/// buffer consumer that survives forged headers.
@Suite("Checked mode: callbacks, helper sets, ring buffer consumer",
       .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct SandboxRuleTests {
    static let header = ObjectErrorTests.header

    @Test("bpf_loop works in a tail-called program, in both modes")
    func loopAfterTailCall() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            int looper(void *ctx);
            struct {
                __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
                __uint(max_entries, 1);
                __type(key, __u32);
                __array(values, int (void *));
            } jump SEC(".maps") = { .values = { [0] = (void *)&looper } };

            static long add(__u64 index, void *data) {
                *(__u64 *)data += index + 1;
                return 0;
            }

            SEC("tp/loop") int looper(void *ctx) {
                __u64 sum = 0;
                bpf_loop(10, add, &sum, 0);
                return sum;
            }

            SEC("tp/entry") int entry(void *ctx) {
                bpf_tail_call(ctx, &jump, 0);
                return 1;
            }
            """)
        let object = try LoadedObject(Object(bytes: bytes, name: "tail_loop"))
        try object.load()
        let entry = try object.program(named: "entry")
        for engine in [Engine.checked, .trusted] {
            #expect(try engine.testRun(entry, input: [UInt8](repeating: 0, count: 8)).result == 55, "\(engine)")
        }
    }

    @Test("bpf_loop's limits and flags give the kernel's errors, without calling back")
    func loopErrors() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            static long never(__u64 index, void *data) { return *(volatile int *)0; }
            SEC("tp/loop") int too_many(void *ctx) { return bpf_loop((1 << 23) + 1, never, 0, 0); }
            SEC("tp/loop") int bad_flags(void *ctx) { return bpf_loop(1, never, 0, 1); }
            SEC("tp/loop") int none(void *ctx) { return bpf_loop(0, never, 0, 0); }
            """)
        let object = try LoadedObject(Object(bytes: bytes, name: "loop_errors"))
        try object.load()
        for (name, expected) in [("too_many", -7), ("bad_flags", -22), ("none", 0)] {
            let result = try object.program(named: name).testRun(input: [0, 0, 0, 0]).result
            #expect(Int32(truncatingIfNeeded: result) == Int32(expected), "\(name)")
        }
    }

    static let kindSource = header + """
        SEC("socket") int sock_reads(void *ctx) {
            char buf[8];
            return bpf_probe_read_kernel(buf, sizeof(buf), ctx);
        }
        SEC("xdp") int xdp_pid(struct xdp_md *ctx) { return bpf_get_current_pid_tgid() & 1; }
        SEC("kprobe/x") int probe_reads(void *ctx) {
            char buf[8];
            return bpf_probe_read_kernel(buf, sizeof(buf), ctx);
        }
        SEC("socket") int sock_plain(void *ctx) { return bpf_get_prandom_u32() & 0; }
        """

    @Test("a networking kind may not call tracing helpers; the error names the helper and the kind",
          arguments: [("sock_reads", "bpf_probe_read_kernel", "socket"), ("xdp_pid", "bpf_get_current_pid_tgid", "xdp")])
    func networkingKinds(program: String, helper: String, kind: String) throws {
        let alone = try LoadedObject(Object(bytes: BPFCompiler.compile(Self.header + Self.only(program)), name: program))
        let failure = #expect(throws: ObjectError.self) { try alone.load() }
        guard case .link(program, _, let reason)? = failure else {
            Issue.record("expected a link error for \(program), got \(String(describing: failure))")
            return
        }
        #expect(reason == "\(helper) is not available to '\(kind)' programs (only tracing and hook kinds may call it)")
    }

    /// The one program of `kindSource` named `name`.
    static func only(_ name: String) -> String {
        let programs = kindSource.components(separatedBy: "SEC(").dropFirst().map { "SEC(" + $0 }
        return programs.first { $0.contains(" \(name)(") } ?? ""
    }

    @Test("tracing kinds read host memory unless the host turns it off")
    func hostMemoryReads() throws {
        let bytes = try BPFCompiler.compile(Self.header + Self.only("probe_reads"))
        let allowed = try LoadedObject(Object(bytes: bytes, name: "probe"))
        try allowed.load()
        var context = [UInt8](repeating: 7, count: 16)
        let result = try context.withUnsafeMutableBytes { try allowed.program(named: "probe_reads").run(memory: $0) }
        #expect(result == 0)
        let refused = try LoadedObject(Object(bytes: bytes, name: "probe"), allowsHostMemoryReads: false)
        let error = #expect(throws: ObjectError.self) { try refused.load() }
        guard case .link("probe_reads", _, let reason)? = error else {
            Issue.record("expected a link error, got \(String(describing: error))")
            return
        }
        #expect(reason == "bpf_probe_read_kernel reads host memory, which the host does not allow for this object")
    }

    @Test("plain helpers stay available to every kind")
    func everyKind() throws {
        let loaded = try LoadedObject(Object(bytes: BPFCompiler.compile(Self.header + Self.only("sock_plain")),
                                             name: "plain"))
        try loaded.load()
        #expect(try loaded.program(named: "sock_plain").testRun(input: [0, 0, 0, 0]).result == 0)
    }
}

@Suite("Ring buffer consumer against forged headers")
struct RingBufferConsumerTests {
    static func ring() throws -> Map {
        try Map(MapDefinition(name: "rb", type: .ringBuffer, keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0))
    }

    /// The ways a program with a stray store could rewrite a record header.
    enum Forgery: String, CaseIterable, Sendable {
        case lengthPastProducer, lengthLargerThanRing, pageOffsetChanged

        func apply(to header: UnsafeMutableRawPointer) {
            switch self {
            case .lengthPastProducer: header.storeBytes(of: UInt32(0x3fff_fff0), as: UInt32.self)
            case .lengthLargerThanRing: header.storeBytes(of: UInt32(1 << 20), as: UInt32.self)
            case .pageOffsetChanged: header.storeBytes(of: UInt32(77), toByteOffset: 4, as: UInt32.self)
            }
        }
    }

    @Test("a forged length or page offset is dropped and counted, and the ring goes on",
          arguments: Forgery.allCases)
    func forgedHeader(_ forgery: Forgery) throws {
        let ring = try Self.ring()
        try ring.output([1, 2, 3, 4])
        let sample = try #require(ring.reserve(size: 8, flags: 0))
        Map.submit(sample, flags: 0)
        // The header changes after submit, as a store racing the consumer would change it.
        forgery.apply(to: sample - 8)
        var delivered: [[UInt8]] = []
        ring.consume { delivered.append(Array($0)) }
        #expect(delivered == [[1, 2, 3, 4]])
        #expect(ring.corruptRecordHeaderCount == 1)
        #expect(ring.query(0) == 0)
        // The ring still works.
        try ring.output([9, 9])
        #expect(ring.consumeAll() == [[9, 9]])
    }

    @Test("submitting or discarding a record twice changes nothing the second time")
    func doubleSubmit() throws {
        let ring = try Self.ring()
        let sample = try #require(ring.reserve(size: 4, flags: 0))
        sample.storeBytes(of: 0xabcd_ef01, as: UInt32.self)
        Map.submit(sample, flags: 0)
        Map.discard(sample, flags: 0)
        #expect(ring.consumeAll() == [[0x01, 0xef, 0xcd, 0xab]])
        #expect(ring.corruptRecordHeaderCount == 0)
    }
}
