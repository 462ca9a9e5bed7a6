import Foundation
import Testing
import BPFVM

/// A program that uses everything a run shares with other runs or keeps to itself: a `bpf_loop`
/// callback, an array map updated atomically, a hash map entry per thread, a per-thread map and
/// a ring buffer, with a global counting the records the ring had no room for.
let concurrentSource = """
    #include <linux/bpf.h>
    #include <bpf/bpf_helpers.h>
    char LICENSE[] SEC("license") = "GPL";

    struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); }
        totals SEC(".maps");
    struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); }
        per_key SEC(".maps");
    struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); }
        per_thread SEC(".maps");
    struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 16); } events SEC(".maps");
    __u64 dropped;

    struct run { __u64 thread; __u64 round; };
    struct event { __u64 thread; __u64 round; };
    struct turns { __u64 sum; };

    static long add_turn(__u64 index, void *data) {
        struct turns *t = data;
        t->sum += index;
        return 0;
    }

    SEC("tp/stress") int work(struct run *ctx) {
        __u32 zero = 0;
        struct turns t = { 0 };
        long n = bpf_loop(4, add_turn, &t, 0);
        __u64 *total = bpf_map_lookup_elem(&totals, &zero);
        if (total) __sync_fetch_and_add(total, t.sum);
        __u32 key = ctx->thread;
        __u64 *mine = bpf_map_lookup_elem(&per_key, &key);
        if (mine) {
            *mine += 1;
        } else {
            __u64 one = 1;
            bpf_map_update_elem(&per_key, &key, &one, BPF_NOEXIST);
        }
        __u64 *slot = bpf_map_lookup_elem(&per_thread, &zero);
        if (slot) *slot += 1;
        struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
        if (e) {
            e->thread = ctx->thread;
            e->round = ctx->round;
            bpf_ringbuf_submit(e, 0);
        } else {
            __sync_fetch_and_add(&dropped, 1);
        }
        return n;
    }
    """

@Suite("Many threads run one object's programs at once", .serialized,
       .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct ConcurrentRunTests {
    static let threads = 4
    static let rounds = 12_000

    @Test("four threads with callbacks, shared and per-thread maps and a ring buffer; counts are exact",
          arguments: [true, false])
    func stress(checked: Bool) throws {
        let object = try LoadedObject(Object(bytes: BPFCompiler.compile(concurrentSource), name: "concurrent"))
        try object.load()
        let program = try object.program(named: "work")
        let ring = try #require(object.map(named: "events"))
        let failures = Failures()
        let producersDone = Counter()
        // Records per thread, in the order the consumer saw them.
        let seen = Records(threads: Self.threads)

        let consumer = Thread {
            while true {
                let finished = producersDone.value == Self.threads
                ring.consume { record in
                    let thread = Int(record.load(fromByteOffset: 0, as: UInt64.self))
                    let round = Int(record.load(fromByteOffset: 8, as: UInt64.self))
                    seen.append(thread: thread, round: round)
                }
                if finished { break }
            }
            producersDone.add()
        }
        consumer.start()
        var producers: [Thread] = []
        for thread in 0..<Self.threads {
            let producer = Thread {
                var context = [UInt64](repeating: 0, count: 2)
                for round in 0..<Self.rounds {
                    context[0] = UInt64(thread)
                    context[1] = UInt64(round)
                    let result = context.withUnsafeMutableBytes { bytes in
                        Result { () throws(ExecutionError) -> UInt64 in try program.run(memory: bytes, checked: checked) }
                    }
                    switch result {
                    case .success(4): break
                    case .success(let value): failures.record("thread \(thread) round \(round): r0 = \(value)")
                    case .failure(let error): failures.record("thread \(thread) round \(round): \(error)")
                    }
                }
                producersDone.add()
            }
            producers.append(producer)
            producer.start()
        }
        while producersDone.value < Self.threads + 1 { usleep(1000) }

        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        let total = Self.threads * Self.rounds
        let totals = try #require(object.map(named: "totals"))
        #expect(totals.lookup(le(UInt32(0))).map { UInt64(littleEndianBytes: $0) } == UInt64(6 * total))
        let perKey = try #require(object.map(named: "per_key"))
        for thread in 0..<Self.threads {
            #expect(perKey.lookup(le(UInt32(thread))).map { UInt64(littleEndianBytes: $0) } == UInt64(Self.rounds))
        }
        let perThread = try #require(object.map(named: "per_thread"))
        let copies = try #require(perThread.lookupAll(le(UInt32(0))))
        #expect(copies.map { UInt64(littleEndianBytes: $0) }.reduce(0, +) == UInt64(total))
        let dropped = try object.global("dropped", as: UInt64.self)
        let records = seen.all
        #expect(records.map(\.count).reduce(0, +) + Int(dropped) == total)
        for (thread, rounds) in records.enumerated() {
            #expect(rounds == rounds.sorted(), "thread \(thread)'s records arrived out of order")
            #expect(Set(rounds).count == rounds.count, "thread \(thread)'s records arrived twice")
        }
        #expect(ring.corruptRecordHeaderCount == 0)
    }
}

/// A thread-safe list of problems seen on other threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func record(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// The rounds each thread's records carried, in arrival order.
final class Records: @unchecked Sendable {
    private let lock = NSLock()
    private var rounds: [[Int]]
    init(threads: Int) { rounds = Array(repeating: [], count: threads) }
    func append(thread: Int, round: Int) {
        lock.withLock {
            if thread >= 0 && thread < rounds.count { rounds[thread].append(round) } else { rounds[0].append(-1) }
        }
    }
    var all: [[Int]] { lock.withLock { rounds } }
}

extension UInt64 {
    init(littleEndianBytes bytes: [UInt8]) {
        self = bytes.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * $1.offset) }
    }
}
