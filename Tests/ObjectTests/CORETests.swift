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

    @Test("a field the target lacks is a load error naming the instruction, unless only its existence is asked")
    func missingField() throws {
        let object = try Object(bytes: BPFCompiler.compile("""
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>
            struct task { int pid; int uid; } __attribute__((preserve_access_index));
            SEC("socket") int uid_of(struct task *t) { return t->uid; }
            """), name: "missing")
        let target = try #require(try Object(bytes: BPFCompiler.compile("struct task { int pid; }; struct task t;"),
                                             name: "host").btf)
        let error = #expect(throws: ObjectError.self) { try Linker.link(object, program: "uid_of", targetBTF: target) }
        guard case .core("uid_of", _, let reason)? = error else {
            Issue.record("expected a CO-RE error, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("does not exist in the target BTF"))
    }
}
