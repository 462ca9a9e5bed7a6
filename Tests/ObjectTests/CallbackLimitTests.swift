import Testing
import BPFVM

/// Checked runs promise to end: the instruction budget and the call depth bound every run, `bpf_loop` callbacks
/// included (they run inside the calling run and count as a call frame, as the verifier counts them).
@Suite("bpf_loop callbacks stay within the run's budget and call depth",
       .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct CallbackLimitTests {
    static let header = ObjectErrorTests.header

    /// Runs `name` of `source` once in checked mode with `budget`, over a zeroed 64-byte context.
    static func run(_ source: String, budget: Int) throws -> (result: Result<UInt64, ExecutionError>, object: LoadedObject) {
        let loaded = try LoadedObject(Object(bytes: BPFCompiler.compile(source), name: "callbacks"))
        try loaded.load()
        var interpreter = try loaded.program(named: "prog").interpreter
        interpreter.instructionBudget = budget
        var context = [UInt8](repeating: 0, count: 64)
        let result = context.withUnsafeMutableBytes { buffer in
            Result { () throws(ExecutionError) -> UInt64 in
                try interpreter.run(arguments: [UInt64(UInt(bitPattern: buffer.baseAddress)), 64],
                                    regions: [MemoryRegion(buffer)], context: loaded.context)
            }
        }
        return (result, loaded)
    }

    @Test("a loop of callbacks runs out of the caller's instruction budget")
    func budgetIsShared() throws {
        let (result, loaded) = try Self.run(Self.header + """
            __u64 calls;
            static long spin(__u64 index, void *ctx) { calls++; return 0; }
            SEC("socket") int prog(void *ctx) { return bpf_loop(1 << 16, spin, 0, 0); }
            """, budget: 10_000)
        // Each callback takes a handful of instructions: 65536 of them cannot fit 10 000.
        guard case .failure(let error) = result, case .instructionBudgetExhausted(10_000) = error.reason else {
            Issue.record("ran \(try loaded.global("calls", as: UInt64.self)) callbacks on a 10 000-instruction budget: \(result)")
            return
        }
    }

    @Test("callbacks nested through bpf_loop count against the call depth")
    func nestingIsBounded() throws {
        let (result, loaded) = try Self.run(Self.header + """
            __u64 depth, deepest;
            static long nest(__u64 index, void *ctx)
            {
                depth++;
                if (depth > deepest) deepest = depth;
                if (depth < 40) bpf_loop(1, nest, 0, 0);
                depth--;
                return 1;
            }
            SEC("socket") int prog(void *ctx) { bpf_loop(1, nest, 0, 0); return deepest; }
            """, budget: 100_000)
        let deepest = try loaded.global("deepest", as: UInt64.self)
        guard case .failure(let error) = result, case .callDepthExceeded(8) = error.reason else {
            Issue.record("callbacks nested \(deepest) deep (the limit is \(Interpreter.maximumCallDepth)): \(result)")
            return
        }
        // The entry function and seven callback frames: seven levels of `nest` ran.
        #expect(deepest == 7)
    }
}
