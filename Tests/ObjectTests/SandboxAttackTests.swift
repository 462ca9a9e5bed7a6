import Testing
import BPFVM

/// One attack on checked mode, written in C the way an attacker would write it, and the trap
/// it must end in (never a signal, never a silent wrong result).
struct Attack: CustomStringConvertible, Sendable {
    let program: String
    let expectation: String
    /// Whether the trap is the one this attack must produce.
    let matches: @Sendable (ExecutionError.Reason) -> Bool
    var description: String { program }
}

/// The attacks of `attackSource`, each with what stops it.
let attacks: [Attack] = [
    Attack(program: "forge_ring_header", expectation: "a write to the record header is outside the record") {
        if case .outOfBounds(_, 8, true, .ringBufferRecord(_, 8)) = $0 { true } else { false }
    },
    Attack(program: "write_past_record", expectation: "a write one past the record traps") {
        if case .outOfBounds(_, 4, true, .ringBufferRecord(_, 16)) = $0 { true } else { false }
    },
    Attack(program: "submit_stack_pointer", expectation: "ringbuf_submit refuses a stack pointer") {
        if case .invalidHelperArgument("ringbuf_submit", 1, let problem) = $0 {
            problem.contains("stack frame at depth 0")
        } else { false }
    },
    Attack(program: "submit_twice", expectation: "the second submit of one record is refused") {
        if case .invalidHelperArgument("ringbuf_submit", 1, let problem) = $0 {
            problem.contains("already submitted or discarded")
        } else { false }
    },
    Attack(program: "write_after_submit", expectation: "a record is out of reach once submitted") {
        if case .outOfBounds(_, 8, true, .releasedRingBufferRecord) = $0 { true } else { false }
    },
    Attack(program: "submit_interior_pointer", expectation: "submit wants the record itself, not a pointer into it") {
        if case .invalidHelperArgument("ringbuf_discard", 1, _) = $0 { true } else { false }
    },
    Attack(program: "leak_record", expectation: "a record neither submitted nor discarded at exit traps") {
        if case .unreleasedRingBufferRecord = $0 { true } else { false }
    },
    Attack(program: "array_neighbour", expectation: "one element past an array value traps") {
        if case .outOfBounds(_, 8, false, .mapValue("arr", _, 8)) = $0 { true } else { false }
    },
    Attack(program: "hash_neighbour", expectation: "one element past a hash value traps") {
        if case .outOfBounds(_, 8, false, .mapValue("table", _, 8)) = $0 { true } else { false }
    },
    Attack(program: "hash_before_value", expectation: "the bytes before a hash value (its key) are out of reach") {
        if case .outOfBounds(_, 4, false, .mapValue("table", _, 8)) = $0 { true } else { false }
    },
    Attack(program: "global_past_section", expectation: "reading past .bss traps") {
        if case .outOfBounds(_, 8, false, .mapValue(_, _, 8)) = $0 { true } else { false }
    },
    Attack(program: "write_rodata", expectation: ".rodata is read-only to programs") {
        if case .writeToReadOnlyMemory(_, 4) = $0 { true } else { false }
    },
    Attack(program: "helper_writes_past_value", expectation: "a helper may not write past a map value either") {
        if case .invalidHelperArgument("probe_read_kernel", 1, let problem) = $0 {
            problem.contains("value of map 'arr'")
        } else { false }
    },
    Attack(program: "key_past_stack", expectation: "a map key must lie in one object") {
        if case .invalidHelperArgument("map_lookup_elem", 2, _) = $0 { true } else { false }
    },
    Attack(program: "loop_recursion", expectation: "a callback that calls bpf_loop on itself hits the frame limit") {
        if case .callDepthExceeded(8) = $0 { true } else { false }
    },
    Attack(program: "loop_budget", expectation: "callbacks share the run's instruction budget") {
        if case .instructionBudgetExhausted(100_000) = $0 { true } else { false }
    },
    Attack(program: "loop_trap", expectation: "a trap inside a callback is the run's trap") {
        if case .outOfBounds(_, 4, false, .number) = $0 { true } else { false }
    },
    Attack(program: "callee_reads_caller_frame", expectation: "a callee reaches its caller's frame only through a pointer") {
        if case .outOfBounds(_, 8, false, .stackFrame(1, _)) = $0 { true } else { false }
    },
    Attack(program: "inner_map_read", expectation: "an inner map from a map of maps is a map, not memory: no read") {
        if case .outOfBounds(_, 4, false, .map("inner_b")) = $0 { true } else { false }
    },
    Attack(program: "inner_map_write", expectation: "an inner map cannot be written through") {
        if case .outOfBounds(_, 4, true, .map("inner_a")) = $0 { true } else { false }
    },
    Attack(program: "inner_map_offset", expectation: "an inner map pointer moved by an offset is no map") {
        if case .invalidHelperArgument("map_lookup_elem", 1, let problem) = $0 { problem.contains("is not a map") } else { false }
    },
    Attack(program: "inner_map_as_key", expectation: "an inner map is no memory to read a key from") {
        if case .invalidHelperArgument("map_lookup_elem", 2, let problem) = $0 {
            problem.contains("pointer to map 'inner_a'")
        } else { false }
    },
    Attack(program: "inner_map_value_past_end", expectation: "a value of an inner map is bounded by the inner map's value size") {
        if case .outOfBounds(_, 8, false, .mapValue("inner_a", _, 8)) = $0 { true } else { false }
    },
    Attack(program: "foreign_inner_map", expectation: "a map the host stored from outside the object is not followed") {
        if case .foreignInnerMap(outer: "outer") = $0 { true } else { false }
    },
]

/// The attacks, in C. Each program's name matches an `Attack`.
let attackSource = """
    #include <linux/bpf.h>
    #include <bpf/bpf_helpers.h>
    char LICENSE[] SEC("license") = "GPL";

    struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
    struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); }
        arr SEC(".maps");
    struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); }
        table SEC(".maps");
    __u64 counter;
    const volatile __u32 limit = 7;

    static __attribute__((noinline)) __u64 peek_above(void) {
        volatile __u64 local = 1;
        /* The caller's frame starts right above this one; the volatile pointer (spilled and
           filled) keeps clang from folding the access away. */
        char *volatile p = (char *)&local;
        return *(volatile __u64 *)(p + 16);
    }

    SEC("tp/attack") int forge_ring_header(void *ctx) {
        __u64 *rec = bpf_ringbuf_reserve(&rb, 8, 0);
        if (!rec) return 1;
        rec[-1] = 0x7fffff00;  /* a forged length, busy bit clear */
        bpf_ringbuf_submit(rec, 0);
        return 0;
    }

    SEC("tp/attack") int write_past_record(void *ctx) {
        __u32 *rec = bpf_ringbuf_reserve(&rb, 16, 0);
        if (!rec) return 1;
        ((volatile __u32 *)rec)[4] = 1;
        bpf_ringbuf_submit(rec, 0);
        return 0;
    }

    SEC("tp/attack") int submit_stack_pointer(void *ctx) {
        volatile __u64 buf[2] = { 0x80000000, 0x80000000 };
        bpf_ringbuf_submit((void *)&buf[1], 0);
        return buf[0];
    }

    SEC("tp/attack") int submit_twice(void *ctx) {
        __u64 *rec = bpf_ringbuf_reserve(&rb, 8, 0);
        if (!rec) return 1;
        *rec = 1;
        bpf_ringbuf_submit(rec, 0);
        bpf_ringbuf_submit(rec, 0);
        return 0;
    }

    SEC("tp/attack") int write_after_submit(void *ctx) {
        volatile __u64 *rec = bpf_ringbuf_reserve(&rb, 8, 0);
        if (!rec) return 1;
        bpf_ringbuf_submit((void *)rec, 0);
        *rec = 2;
        return 0;
    }

    SEC("tp/attack") int submit_interior_pointer(void *ctx) {
        char *rec = bpf_ringbuf_reserve(&rb, 16, 0);
        if (!rec) return 1;
        bpf_ringbuf_discard(rec + 8, 0);
        return 0;
    }

    SEC("tp/attack") int leak_record(void *ctx) {
        __u64 *rec = bpf_ringbuf_reserve(&rb, 8, 0);
        return rec ? 0 : 1;
    }

    SEC("tp/attack") int array_neighbour(void *ctx) {
        __u32 key = 0;
        volatile __u64 *value = bpf_map_lookup_elem(&arr, &key);
        if (!value) return 1;
        return value[1];
    }

    SEC("tp/attack") int hash_neighbour(void *ctx) {
        __u32 a = 1, b = 2;
        __u64 one = 11, two = 22;
        bpf_map_update_elem(&table, &a, &one, BPF_ANY);
        bpf_map_update_elem(&table, &b, &two, BPF_ANY);
        volatile __u64 *value = bpf_map_lookup_elem(&table, &a);
        if (!value) return 1;
        return value[1] + value[-1];
    }

    SEC("tp/attack") int hash_before_value(void *ctx) {
        __u32 a = 1;
        __u64 one = 11;
        bpf_map_update_elem(&table, &a, &one, BPF_ANY);
        volatile char *value = bpf_map_lookup_elem(&table, &a);
        if (!value) return 1;
        return *(volatile __u32 *)(value - 8);
    }

    SEC("tp/attack") int global_past_section(void *ctx) {
        return ((volatile __u64 *)&counter)[1];
    }

    SEC("tp/attack") int write_rodata(void *ctx) {
        *(volatile __u32 *)&limit = 8;
        return limit;
    }

    SEC("tp/attack") int helper_writes_past_value(void *ctx) {
        __u32 key = 0;
        void *value = bpf_map_lookup_elem(&arr, &key);
        if (!value) return 1;
        bpf_probe_read_kernel(value, 16, ctx);
        return 0;
    }

    SEC("tp/attack") int key_past_stack(void *ctx) {
        char buf[8] = {};
        return bpf_map_lookup_elem(&table, buf + 6) != 0;
    }

    static long recurse(__u64 index, void *ctx);
    static long recurse(__u64 index, void *ctx) {
        bpf_loop(1, recurse, ctx, 0);
        return 0;
    }

    SEC("tp/attack") int loop_recursion(void *ctx) {
        return bpf_loop(1, recurse, 0, 0);
    }

    static long spin(__u64 index, void *ctx) {
        (*(volatile __u64 *)ctx)++;
        return 0;
    }

    SEC("tp/attack") int loop_budget(void *ctx) {
        volatile __u64 count = 0;
        bpf_loop(1 << 23, spin, (void *)&count, 0);
        return 0;
    }

    static long fault(__u64 index, void *ctx) {
        return *(volatile __u32 *)(index * 0);
    }

    SEC("tp/attack") int loop_trap(void *ctx) {
        return bpf_loop(3, fault, 0, 0);
    }

    SEC("tp/attack") int callee_reads_caller_frame(void *ctx) {
        volatile __u64 mine = 5;
        return peek_above() + mine;
    }

    struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2); __type(key, __u32); __type(value, __u64); };
    struct inner inner_a SEC(".maps"), inner_b SEC(".maps");
    struct {
        __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
        __uint(max_entries, 3);
        __type(key, __u32);
        __array(values, struct inner);
    } outer SEC(".maps") = { .values = { [0] = &inner_a, [1] = &inner_b } };

    static void *inner_map(__u32 index) { return bpf_map_lookup_elem(&outer, &index); }

    SEC("tp/attack") int inner_map_read(void *ctx) {
        void *inner = inner_map(1);
        return inner ? *(volatile __u32 *)inner : 1;
    }

    SEC("tp/attack") int inner_map_write(void *ctx) {
        void *inner = inner_map(0);
        if (!inner) return 1;
        *(volatile __u32 *)inner = 0;
        return 0;
    }

    SEC("tp/attack") int inner_map_offset(void *ctx) {
        char *inner = inner_map(0);
        __u32 key = 0;
        return inner ? bpf_map_lookup_elem(inner + 8, &key) != 0 : 1;
    }

    SEC("tp/attack") int inner_map_as_key(void *ctx) {
        void *inner = inner_map(0);
        return inner ? bpf_map_lookup_elem(inner, inner) != 0 : 1;
    }

    SEC("tp/attack") int inner_map_value_past_end(void *ctx) {
        void *inner = inner_map(0);
        __u32 key = 1;
        if (!inner) return 1;
        volatile __u64 *value = bpf_map_lookup_elem(inner, &key);
        return value ? value[1] : 2;
    }

    SEC("tp/attack") int foreign_inner_map(void *ctx) {
        void *inner = inner_map(2);
        __u32 key = 0;
        return inner ? bpf_map_lookup_elem(inner, &key) != 0 : 1;
    }
    """

@Suite("Attacks on checked mode end in a trap", .serialized, .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct SandboxAttackTests {
    static let object: LoadedObject? = {
        guard let bytes = try? BPFCompiler.compile(attackSource),
              let object = try? LoadedObject(Object(bytes: bytes, name: "attacks")),
              let outer = object.map(named: "outer"), let template = outer.definition.innerMap,
              let foreign = try? Map(template)
        else { return nil }
        // A map of the same shape that is not one of the object's maps.
        try? outer.setInnerMap(foreign, at: 2)
        try? object.load()
        return object
    }()

    @Test("each attack traps with its own reason, naming the instruction", arguments: attacks)
    func attack(_ attack: Attack) throws {
        let object = try #require(Self.object, "the attack object did not compile or load")
        var program = try object.program(named: attack.program).interpreter
        program.instructionBudget = 100_000
        var context = [UInt8](repeating: 0, count: 64)
        let error = context.withUnsafeMutableBytes { buffer in
            #expect(throws: ExecutionError.self) {
                try program.run(memory: buffer, context: object.context)
            }
        }
        let trap = try #require(error, "\(attack.program) ran to completion: \(attack.expectation)")
        #expect(attack.matches(trap.reason), "\(attack.expectation); got \(trap)")
        #expect(trap.index >= 0 && trap.index < program.program.instructions.count)
        // Nothing an attack did leaves the ring blocked or holding a forged record.
        let ring = try #require(object.map(named: "rb"))
        for record in ring.consumeAll() { #expect(record.count <= 16) }
        #expect(ring.query(0) == 0, "the ring still holds unconsumed data after \(attack.program)")
    }
}
