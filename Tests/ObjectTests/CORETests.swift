import Foundation
import Testing
import BPFVM

/// CO-RE against a target whose layout differs from the one the program was compiled against.
@Suite("CO-RE relocations against a different target BTF", .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct CORETests {
    static let program = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>
        #include <bpf/bpf_core_read.h>
        char LICENSE[] SEC("license") = "GPL";

        struct task { int pid; long state; unsigned int flags: 3; unsigned int mode: 5; }
            __attribute__((preserve_access_index));
        struct task___future { int ghost; } __attribute__((preserve_access_index));
        struct gone { int x; };
        enum color { RED = 1, GREEN = 2 };
        enum shape { SQUARE = 1 };

        struct results {
            long pid_offset, state_offset, state_size, ghost_exists, mode, green, red_exists, square_exists;
            long task_size, gone_exists, pid_signed, flags_signed;
        } out;

        SEC("socket") int inspect(struct task *t)
        {
            out.pid_offset = bpf_core_field_offset(t->pid);
            out.state_offset = bpf_core_field_offset(t->state);
            out.state_size = bpf_core_field_size(t->state);
            out.ghost_exists = bpf_core_field_exists(((struct task___future *)t)->ghost);
            out.mode = BPF_CORE_READ_BITFIELD(t, mode);
            out.green = bpf_core_enum_value(enum color, GREEN);
            out.red_exists = bpf_core_enum_value_exists(enum color, RED);
            out.square_exists = bpf_core_enum_value_exists(enum shape, SQUARE);
            out.task_size = bpf_core_type_size(struct task);
            out.gone_exists = bpf_core_type_exists(struct gone);
            out.pid_signed = __builtin_preserve_field_info(t->pid, BPF_FIELD_SIGNED);
            out.flags_signed = __builtin_preserve_field_info(t->flags, BPF_FIELD_SIGNED);
            return t->pid;
        }
        """

    /// The host's types: reordered, widened bitfields, other enum values, no `struct gone`.
    static let target = """
        struct task { long pad; unsigned int flags: 7; unsigned int mode: 9; long state; int pid; };
        enum color { GREEN = 7, RED = 9 };
        struct task host_task;
        enum color host_color;
        """

    @Test("offsets, sizes, existence, bitfields, enum values and signedness follow the target", arguments: [true, false])
    func relocates(checked: Bool) throws {
        let object = try Object(bytes: BPFCompiler.compile(Self.program), name: "core")
        let target = try #require(try Object(bytes: BPFCompiler.compile(Self.target), name: "host").btf)
        let loaded = try LoadedObject(object)
        try loaded.load(targetBTF: target)
        // The context laid out as the target's struct task: pad @0, flags:7 and mode:9 @8, state @16, pid @24.
        var task = [UInt8](repeating: 0, count: 32)
        let bits = UInt32(5) | UInt32(300) << 7  // flags = 5, mode = 300
        task.replaceSubrange(8..<12, with: le(bits))
        task.replaceSubrange(16..<24, with: le(Int64(-3)))
        task.replaceSubrange(24..<28, with: le(Int32(4242)))
        let r0 = try task.withUnsafeMutableBytes {
            try loaded.program(named: "inspect").run(memory: $0, checked: checked)
        }
        #expect(r0 == 4242)
        let results = try #require(loaded.global("out"))
        let values = (0..<12).map { index in
            results[(index * 8)..<(index * 8 + 8)].withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }
        }
        #expect(values == [24, 16, 8, 0, 300, 7, 1, 0, 32, 0, 1, 0])
    }

    /// A program compiled against `source` and linked against the BTF of `target`.
    static func link(_ source: String, program: String, target: String) throws -> Program {
        let object = try Object(bytes: BPFCompiler.compile(header + source), name: "core")
        return try Linker.link(object, program: program, targetBTF: Self.btf(target))
    }

    static func btf(_ source: String) throws -> BTF {
        try #require(try Object(bytes: BPFCompiler.compile(source), name: "target").btf)
    }

    static let header = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>
        #include <bpf/bpf_core_read.h>
        char LICENSE[] SEC("license") = "GPL";

        """

    @Test("a field the target lacks poisons its instruction as libbpf does; a checked run traps there naming it")
    func missingFieldPoisons() throws {
        let program = try Self.link("""
            struct task { int pid; int uid; } __attribute__((preserve_access_index));
            SEC("socket") int uid_of(struct task *t) { return t->uid; }
            """, program: "uid_of", target: "struct task { int pid; }; struct task t;")
        // libbpf's encoding: call 0xbad2310 with every other field 0.
        #expect(program.instructions[0].rawValue == 0x0bad_2310_0000_0085)
        #expect(PoisonedInstruction.isPoisoned(program.instructions[0]))
        #expect(!PoisonedInstruction.isPoisoned(Instruction(opcode: 0x85, imm: 1)))
        #expect(program.metadata.poisoned.map(\.instructionIndex) == [0])
        let reason = try #require(program.metadata.poisonReason(at: 0))
        #expect(reason == "CO-RE relocation #0 <byte_off> [2] struct task.uid (0:1 @ offset 4): the target BTF has no such field")
        let interpreter = try Interpreter(program: program, helpers: StandardHelpers.table)
        var task = [UInt8](repeating: 0, count: 8)
        let error = #expect(throws: ExecutionError.self) {
            _ = try task.withUnsafeMutableBytes { try interpreter.run(memory: $0) }
        }
        #expect(error == ExecutionError(index: 0, reason: .poisonedInstruction(reason)))
        #expect(error?.description == "instruction 0: reached a poisoned instruction: \(reason)")
    }

    @Test("a guarded access to a missing field never reaches its poisoned instruction", arguments: [true, false])
    func guardedField(checked: Bool) throws {
        let source = """
            struct task { int pid; int uid; } __attribute__((preserve_access_index));
            SEC("socket") int uid_or_pid(struct task *t)
            {
                if (bpf_core_field_exists(t->uid)) return t->uid;
                return t->pid + 1000;
            }
            """
        for (target, expected) in [("struct task { int pid; }; struct task t;", UInt64(1007)),
                                   ("struct task { long pad; int uid; int pid; }; struct task t;", 42)] {
            let program = try Self.link(source, program: "uid_or_pid", target: target)
            #expect(program.metadata.poisoned.isEmpty == (expected == 42))
            let interpreter = try Interpreter(program: program, helpers: StandardHelpers.table)
            var task = [UInt8](repeating: 0, count: 16)
            task.replaceSubrange(0..<4, with: le(Int32(expected == 42 ? 0 : 7)))
            task.replaceSubrange(8..<12, with: le(Int32(42)))
            task.replaceSubrange(12..<16, with: le(Int32(7)))
            let r0 = try task.withUnsafeMutableBytes { memory in
                checked ? try interpreter.run(memory: memory) : try interpreter.runTrusted(memory: memory)
            }
            #expect(r0 == expected)
        }
    }

    @Test("members are found through anonymous structs and unions at any depth, in the local and the target type")
    func anonymousMembers() throws {
        let program = try Self.link("""
            struct sk { int a; union { struct { int x; int y; }; long z; }; } __attribute__((preserve_access_index));
            long out[3];
            SEC("socket") int read(struct sk *s)
            {
                out[0] = bpf_core_field_offset(s->y);
                out[1] = bpf_core_field_offset(s->z);
                out[2] = bpf_core_field_offset(s->a);
                return s->y;
            }
            """, program: "read", target: """
            struct sk {
                long pad;
                struct { union { long z; struct { int pad2; struct { union { int x; char c; }; int y; }; }; }; };
                int a;
            };
            struct sk s;
            """)
        #expect(program.metadata.poisoned.isEmpty)
        // y: pad 8 + pad2 4 + x 4 = 16; z: 8; a: 8 + 16 = 24.
        let constants = program.operations.compactMap { (_, operation) -> Int64? in
            if case .alu(.mov, .bits64, _, .immediate(let value)) = operation { return Int64(value) }
            return nil
        }
        #expect(constants.contains(16) && constants.contains(8) && constants.contains(24))
        let load = program.operations.first { (_, operation) in
            if case .load(.word, _, _, _, _) = operation { true } else { false }
        }
        guard case .load(_, _, _, let offset, _)? = load?.operation else {
            Issue.record("no 32-bit load in \(program.operations)")
            return
        }
        #expect(offset == 16)
    }

    @Test("candidates that disagree are an error; candidates that agree are not")
    func ambiguousCandidates() throws {
        let source = """
            struct task { int pid; } __attribute__((preserve_access_index));
            SEC("socket") int pid_of(struct task *t) { return t->pid; }
            """
        let error = #expect(throws: ObjectError.self) {
            try Self.link(source, program: "pid_of", target: """
                struct task { int pid; }; struct task___v2 { long pad; int pid; };
                struct task a; struct task___v2 b;
                """)
        }
        guard case .core("pid_of", 0, let reason)? = error else {
            Issue.record("expected a CO-RE error, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("ambiguous"))
        // Two flavours with the field at the same place resolve.
        let program = try Self.link(source, program: "pid_of", target: """
            struct task { long pad; int pid; }; struct task___v2 { long pad; int pid; short extra; };
            struct task a; struct task___v2 b;
            """)
        #expect(program.instructions[0].offset == 8)
    }

    @Test("loads follow a field's new size when it is unsigned or a pointer, else are poisoned")
    func resizedFields() throws {
        let program = try Self.link("""
            struct task { unsigned int flags; int prio; void *mm; } __attribute__((preserve_access_index));
            long out[3];
            SEC("socket") int read(struct task *t)
            {
                out[0] = t->flags;
                out[1] = (long)t->mm;
                out[2] = t->prio;
                return 0;
            }
            """, program: "read", target: """
            struct task { unsigned long flags; void *mm; long prio; }; struct task t;
            """)
        let loads = program.operations.compactMap { (index, operation) -> (Int, MemorySize, Int16)? in
            if case .load(let size, _, let src, let offset, _) = operation, src == .r1 { return (index, size, offset) }
            return nil
        }
        #expect(loads.map(\.1) == [.doubleWord, .doubleWord])
        #expect(loads.map(\.2) == [0, 8])
        // The signed field that grew cannot be read with a wider load: poisoned, with the reason.
        #expect(program.metadata.poisoned.count == 1)
        #expect(program.metadata.poisoned.first?.reason == "CO-RE relocation #2 <byte_off> [2] struct task.prio"
            + " (0:1 @ offset 4): the field is 8 bytes in the target and 4 locally, and only pointers and"
            + " unsigned integers can be read at another size")
    }

    @Test("type_exists, type_matches and flavours follow libbpf's rules")
    func typeRelocations() throws {
        let program = try Self.link("""
            struct task___old { int pid; long state; } __attribute__((preserve_access_index));
            struct thing { int a; } __attribute__((preserve_access_index));
            long out[5];
            SEC("socket") int probe(void *ctx)
            {
                out[0] = bpf_core_type_exists(struct task___old);
                out[1] = bpf_core_type_matches(struct task___old);
                out[2] = bpf_core_type_exists(struct thing);
                out[3] = bpf_core_type_matches(struct thing);
                out[4] = bpf_core_type_size(struct task___old);
                return 0;
            }
            """, program: "probe", target: """
            struct task { int pid; int __state; long pad; }; struct task t;
            struct thing { long a; }; struct thing u;
            """)
        let values = program.operations.compactMap { (_, operation) -> Int64? in
            switch operation {
            case .alu(.mov, _, _, .immediate(let value)): Int64(value)
            case .loadImmediate64(.immediate, _, let value): Int64(bitPattern: value)
            default: nil
            }
        }
        // task___old exists (a struct named task) but does not match (no member 'state'); thing
        // exists and does not match either (a is an int locally, a long in the target); size 16; and
        // the return value.
        #expect(values == [1, 0, 1, 0, 16, 0])
    }
}
