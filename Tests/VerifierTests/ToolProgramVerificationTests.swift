import BPFVM
import Testing
import Verifier

/// What libbpf-style tracing tools need from the verifier: the prototypes of the helpers they
/// call (perf output, stack ids and stacks, cgroups, coarse clocks, per-CPU lookups, string
/// compares), lookups in maps of maps that give maps, constant strings read from frozen
/// `.rodata`, and calls the loader poisoned, which fail only where a path reaches them.
@Suite("Verifying what libbpf tools do")
struct ToolProgramVerificationTests {
    /// One program, what it is verified against, and the verdict.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let source: String
        var kind: ProgramKind = .testRun(type: "kprobe")
        /// Expected rejection message (a part of it), or nil when the program must be accepted.
        let rejection: String?
        /// Poisoned instructions, by index, with their reason.
        var poisoned: [Int: String] = [:]
        /// Frozen values of the maps (by index), defaulting to the read-only map's string table.
        var frozenValues: [Int: [UInt8]] = [ToolProgramVerificationTests.rodataIndex: ToolProgramVerificationTests.rodata]
        var testDescription: String { name }
    }

    static let inner = MapDefinition(name: "outer.inner", type: .hash, keySize: 4, valueSize: 8, maxEntries: 8)
    /// The maps every case may use, by `map_idx`.
    static let maps = [
        MapDefinition(name: "events", type: .perfEventArray, keySize: 4, valueSize: 4, maxEntries: 4),
        MapDefinition(name: "stacks", type: .stackTrace, keySize: 4, valueSize: 8 * 16, maxEntries: 16),
        MapDefinition(name: "cgroups", type: .cgroupArray, keySize: 4, valueSize: 4, maxEntries: 1),
        MapDefinition(name: "counts", type: .perThreadArray, keySize: 4, valueSize: 8, maxEntries: 1),
        MapDefinition(name: "outer", type: .arrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: inner),
        MapDefinition(name: "values", type: .hash, keySize: 4, valueSize: 8, maxEntries: 16),
        MapDefinition(name: "tool.rodata", type: .array, keySize: 4, valueSize: 12, maxEntries: 1, flags: 0x480),
    ]
    static let rodataIndex = 6
    /// "bash\0" at 0, then "unterminated" would not fit: bytes 5... hold no NUL.
    static let rodata: [UInt8] = Array("bash".utf8) + [0] + Array("abcdefg".utf8)

    func verdict(_ testCase: Case) throws -> Result<VerifiedProgram, VerifierError> {
        let metadata = ProgramMetadata(
            name: testCase.name, section: "kprobe/test", kind: testCase.kind,
            poisoned: testCase.poisoned.sorted { $0.key < $1.key }.map {
                PoisonedInstruction(instructionIndex: $0.key, reason: $0.value)
            })
        let program = try Program(instructions: Assembler.assemble(testCase.source), metadata: metadata)
        let environment = VerificationEnvironment(kind: testCase.kind, context: .memory(size: 64), maps: Self.maps,
                                                  frozenValues: testCase.frozenValues)
        return Result { () throws(VerifierError) in try Verifier().verify(program, in: environment) }
    }

    func check(_ testCase: Case) throws {
        switch (try verdict(testCase), testCase.rejection) {
        case (.success, nil):
            break
        case (.success, let expected?):
            Issue.record("accepted; expected a rejection with '\(expected)'")
        case (.failure(let error), nil):
            Issue.record("rejected: \(error)")
        case (.failure(let error), let expected?):
            #expect(error.message.contains(expected), "\(error)")
        }
    }

    /// An 8-byte record at fp-8 (initialised unless `initialised` is false) and its address in `register`.
    static func record(in register: Int, initialised: Bool = true) -> String {
        (initialised ? "    stdw [%r10-8], 7\n" : "") + "    mov %r\(register), %r10\n    add %r\(register), -8\n"
    }

    static let helperCases: [Case] = [
        // bpf_perf_event_output(ctx, map, flags, data, size)
        Case(name: "perf_event_output", source: record(in: 4) + """
                 lddw %r2, map_idx 0
                 mov %r3, 0
                 mov %r5, 8
                 call 25
                 exit
             """, rejection: nil),
        Case(name: "perf_event_output of uninitialised data", source: record(in: 4, initialised: false) + """
                 lddw %r2, map_idx 0
                 mov %r3, 0
                 mov %r5, 8
                 call 25
                 exit
             """, rejection: "invalid read from stack R4 off -8+0 size 8"),
        Case(name: "perf_event_output past the data", source: record(in: 4) + """
                 lddw %r2, map_idx 0
                 mov %r3, 0
                 mov %r5, 16
                 call 25
                 exit
             """, rejection: "R4 off=-8 size=16"),
        Case(name: "perf_event_output without the context", source: record(in: 4) + """
                 mov %r1, %r10
                 lddw %r2, map_idx 0
                 mov %r3, 0
                 mov %r5, 8
                 call 25
                 exit
             """, rejection: "R1 type=fp expected=ctx"),
        Case(name: "perf_event_output to a number", source: record(in: 4) + """
                 mov %r2, 0
                 mov %r3, 0
                 mov %r5, 8
                 call 25
                 exit
             """, rejection: "R2 type=scalar expected=map_ptr"),
        // bpf_get_stackid(ctx, map, flags): tracing kinds only.
        Case(name: "get_stackid", source: """
                 lddw %r2, map_idx 1
                 mov %r3, 0
                 call 27
                 exit
             """, rejection: nil),
        Case(name: "get_stackid from a socket filter", source: """
                 lddw %r2, map_idx 1
                 mov %r3, 0
                 call 27
                 exit
             """, kind: .testRun(type: "socket"),
             rejection: "program of this type cannot use helper bpf_get_stackid#27"),
        // bpf_current_task_under_cgroup(map, index)
        Case(name: "current_task_under_cgroup", source: """
                 lddw %r1, map_idx 2
                 mov %r2, 0
                 call 37
                 exit
             """, rejection: nil),
        Case(name: "current_task_under_cgroup of the stack", source: record(in: 1) + """
                 mov %r2, 0
                 call 37
                 exit
             """, rejection: "R1 type=fp expected=map_ptr"),
        // bpf_get_stack(ctx, buffer, size, flags): the buffer is written, so it may be uninitialised.
        Case(name: "get_stack into uninitialised stack, read back", source: """
                 mov %r2, %r10
                 add %r2, -64
                 mov %r3, 64
                 mov %r4, 256
                 call 67
                 ldxdw %r0, [%r10-64]
                 exit
             """, rejection: nil),
        Case(name: "get_stack past the stack", source: """
                 mov %r2, %r10
                 add %r2, -64
                 mov %r3, 128
                 mov %r4, 256
                 call 67
                 exit
             """, rejection: "R2 off=-64 size=128"),
        Case(name: "get_stack of an unbounded size", source: """
                 mov %r6, %r1
                 call 5
                 mov %r1, %r6
                 mov %r3, %r0
                 rsh %r3, 1
                 mov %r2, %r10
                 add %r2, -64
                 mov %r4, 0
                 call 67
                 exit
             """, rejection: "R3 unbounded memory access"),
        Case(name: "get_current_cgroup_id", source: "    call 80\n    exit\n", rejection: nil),
        Case(name: "ktime_get_coarse_ns", source: "    call 160\n    exit\n", rejection: nil),
        // bpf_map_lookup_percpu_elem(map, key, cpu): a value or NULL.
        Case(name: "map_lookup_percpu_elem, checked", source: percpuLookup + """
                 jeq %r0, 0, +1
                 ldxdw %r0, [%r0+0]
                 exit
             """, rejection: nil),
        Case(name: "map_lookup_percpu_elem, not checked", source: percpuLookup + """
                 ldxdw %r0, [%r0+0]
                 exit
             """, rejection: "R0 invalid mem access 'map_value_or_null'"),
        Case(name: "map_lookup_percpu_elem, past the value", source: percpuLookup + """
                 jeq %r0, 0, +1
                 ldxdw %r0, [%r0+8]
                 exit
             """, rejection: "invalid access to map value, value_size=8 off=8 size=8"),
    ]

    /// Looks up key 0 of CPU 1's copy of the per-CPU array (map 3) into r0.
    static let percpuLookup = """
            stw [%r10-4], 0
            mov %r2, %r10
            add %r2, -4
            lddw %r1, map_idx 3
            mov %r3, 1
            call 195

        """

    @Test("helper prototypes: the arguments tools pass are accepted, wrong ones refused", arguments: helperCases)
    func helpers(_ testCase: Case) throws {
        try check(testCase)
    }

    /// bpf_strncmp(s1, s1_size, s2) against the string at `offset` of the frozen `.rodata`.
    static func strncmp(offset: Int) -> String {
        record(in: 1) + """
                mov %r2, 8
                lddw %r3, map_idx_value \(UInt64(offset) << 32 | UInt64(rodataIndex))
                call 182
                exit
            """
    }

    static let constantStringCases: [Case] = [
        Case(name: "a NUL-terminated string of a frozen read-only map", source: strncmp(offset: 0), rejection: nil),
        Case(name: "a string without its NUL", source: strncmp(offset: 5), rejection: "string is not zero-terminated"),
        Case(name: "a map the host may still change", source: strncmp(offset: 0), rejection:
                "R3 does not point to a readonly map'", frozenValues: [:]),
        Case(name: "a string on the stack", source: record(in: 1) + """
                 mov %r2, 8
                 mov %r3, %r1
                 call 182
                 exit
             """, rejection: "R3 type=fp expected=map_value"),
        Case(name: "a string at a variable offset", source: record(in: 1) + """
                 call 5
                 and %r0, 3
                 lddw %r3, map_idx_value \(rodataIndex)
                 add %r3, %r0
                 mov %r1, %r10
                 add %r1, -8
                 mov %r2, 8
                 call 182
                 exit
             """, rejection: "R3 is not a constant address'"),
    ]

    @Test("constant strings are NUL-terminated strings of frozen read-only maps", arguments: constantStringCases)
    func constantStrings(_ testCase: Case) throws {
        try check(testCase)
    }

    /// Looks up key 0 of the map of maps (map 4) into r0, leaving r6 holding fp-4 (the key).
    static let outerLookup = """
            stw [%r10-4], 0
            mov %r6, %r10
            add %r6, -4
            mov %r2, %r6
            lddw %r1, map_idx 4
            call 1

        """

    static let mapOfMapsCases: [Case] = [
        Case(name: "the inner map found is a map for the next lookup", source: innerRead(at: 0), rejection: nil),
        Case(name: "the inner map before its NULL check", source: outerLookup + """
                 mov %r1, %r0
                 mov %r2, %r6
                 call 1
                 exit
             """, rejection: "R1 type=map_ptr_or_null expected=map_ptr"),
        Case(name: "the inner map read as memory", source: outerLookup + """
                 jeq %r0, 0, +1
                 ldxdw %r0, [%r0+0]
                 exit
             """, rejection: "R0 invalid mem access 'map_ptr'"),
        Case(name: "the inner map moved", source: outerLookup + """
                 jeq %r0, 0, +1
                 add %r0, 8
                 mov %r0, 0
                 exit
             """, rejection: "R0 pointer arithmetic on map_ptr prohibited"),
        Case(name: "an inner value read past the template's value size", source: innerRead(at: 8),
             rejection: "invalid access to map value, value_size=8 off=8 size=8"),
    ]

    /// Looks up key 0 in the inner map found under key 0, both checked, and reads 8 bytes at `offset` of the value.
    static func innerRead(at offset: Int) -> String {
        outerLookup + """
                jeq %r0, 0, out
                mov %r1, %r0
                mov %r2, %r6
                call 1
                jeq %r0, 0, out
                ldxdw %r0, [%r0+\(offset)]
            out:
                exit
            """
    }

    @Test("a lookup in a map of maps gives a map (or NULL), typed by the inner-map template", arguments: mapOfMapsCases)
    func mapsOfMaps(_ testCase: Case) throws {
        try check(testCase)
    }

    @Test("a map of maps without an inner-map template is refused: nothing would type what its lookups find")
    func mapOfMapsWithoutTemplate() throws {
        var maps = Self.maps
        maps[4] = MapDefinition(name: "outer", type: .hashOfMaps, keySize: 4, valueSize: 4, maxEntries: 2)
        let program = try Program(instructions: Assembler.assemble(Self.innerRead(at: 0)))
        let error = #expect(throws: VerifierError.self) {
            try Verifier().verify(program, in: VerificationEnvironment(kind: .testRun(type: "kprobe"), maps: maps))
        }
        #expect(error?.message == "map 'outer' holds maps but has no inner map template" && error?.errno == 22)
    }

    static let coreReason = "CO-RE relocation #0 <byte_off> [3] struct task.state (0:1 @ offset 8): the target BTF has no such field"
    static let kfuncReason = "weak kfunc 'bpf_rcu_read_lock' is not resolved: this runtime has no kernel functions"

    static let poisonedCases: [Case] = [
        Case(name: "a reachable poisoned CO-RE load", source: """
                 mov %r0, 0
                 call 195896080
                 exit
             """, rejection: "invalid func unknown#195896080: the loader poisoned this call: \(coreReason)",
             poisoned: [1: coreReason]),
        Case(name: "a poisoned CO-RE load behind a failed field_exists guard", source: """
                 mov %r0, 0
                 jeq %r0, 0, +1
                 call 195896080
                 exit
             """, rejection: nil, poisoned: [2: coreReason]),
        Case(name: "both slots of a poisoned lddw, unreachable", source: """
                 mov %r1, 0
                 jeq %r1, 0, +2
                 call 195896080
                 call 195896080
                 mov %r0, 0
                 exit
             """, rejection: nil, poisoned: [2: coreReason, 3: coreReason]),
        Case(name: "a reachable poisoned kfunc call", source: """
                 call 2000000001
                 mov %r0, 0
                 exit
             """, rejection: "invalid func unknown#2000000001: the loader poisoned this call: \(kfuncReason)",
             poisoned: [0: kfuncReason]),
        Case(name: "a poisoned kfunc call on one side of a branch the verifier cannot decide", source: """
                 call 5
                 jeq %r0, 0, +1
                 call 2000000001
                 mov %r0, 0
                 exit
             """, rejection: "invalid func unknown#2000000001", poisoned: [2: kfuncReason]),
        Case(name: "an unknown helper the loader did not poison, unreachable", source: """
                 mov %r0, 0
                 jeq %r0, 0, +1
                 call 195896080
                 exit
             """, rejection: "invalid func unknown#195896080"),
    ]

    @Test("a poisoned call is refused only where a path reaches it, naming what it was poisoned for",
          arguments: poisonedCases)
    func poisonedCalls(_ testCase: Case) throws {
        try check(testCase)
        if case .failure(let error) = try verdict(testCase), let index = error.instruction,
           let reason = testCase.poisoned[index]
        {
            #expect(error.message.hasSuffix(reason) && error.errno == 22)
        }
    }
}
