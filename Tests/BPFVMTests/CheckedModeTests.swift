import Testing
@testable import BPFVM

/// A program that checked mode must stop, with the trap it must report.
struct TrapCase: CustomStringConvertible, Sendable {
    let name: String
    let operations: [Operation]
    let expected: (Int, ExecutionError.Reason)?
    var description: String { name }
}

/// Address arithmetic for the expectations: r1 points at a 16-byte input buffer.
let trapCases: [TrapCase] = [
    TrapCase(name: "read past the input", operations: [
        .load(.doubleWord, dst: .r0, src: .r1, offset: 9, signExtend: false), .exit,
    ], expected: nil),
    TrapCase(name: "write before the input", operations: [
        .storeImmediate(.byte, dst: .r1, offset: -1, value: 0), mov(.r0, 0), .exit,
    ], expected: nil),
    TrapCase(name: "read below the stack frame", operations: [
        .load(.byte, dst: .r0, src: .r10, offset: -513, signExtend: false), .exit,
    ], expected: nil),
    TrapCase(name: "read above the stack", operations: [
        .load(.byte, dst: .r0, src: .r10, offset: 0, signExtend: false), .exit,
    ], expected: nil),
    TrapCase(name: "null dereference", operations: [
        mov(.r1, 0), .load(.word, dst: .r0, src: .r1, offset: 0, signExtend: false), .exit,
    ], expected: nil),
    TrapCase(name: "a pointer into a frame that has returned", operations: [
        .call(.local(2)), .load(.doubleWord, dst: .r0, src: .r0, offset: 0, signExtend: false), .exit,
        mov(.r0, .r10), .alu(.add, .bits64, dst: .r0, source: .immediate(-8)), .exit,
    ], expected: nil),
    TrapCase(name: "a callee reaches above its frame", operations: [
        .call(.local(1)), .exit, .load(.doubleWord, dst: .r0, src: .r10, offset: 8, signExtend: false), .exit,
    ], expected: nil),
    TrapCase(name: "a pointer spilled and filled keeps its object", operations: [
        .store(.doubleWord, dst: .r10, src: .r1, offset: -8), .load(.doubleWord, dst: .r2, src: .r10, offset: -8,
                                                                     signExtend: false),
        .load(.byte, dst: .r0, src: .r2, offset: 16, signExtend: false), .exit,
    ], expected: nil),
    TrapCase(name: "a partly overwritten spilled pointer is a number", operations: [
        .store(.doubleWord, dst: .r10, src: .r1, offset: -8), .storeImmediate(.byte, dst: .r10, offset: -8, value: 0),
        .load(.doubleWord, dst: .r2, src: .r10, offset: -8, signExtend: false),
        .load(.byte, dst: .r0, src: .r2, offset: 0, signExtend: false), .exit,
    ], expected: nil),
    TrapCase(name: "uninitialised r0 at exit", operations: [.exit],
             expected: (0, .uninitializedRegister(.r0))),
    TrapCase(name: "uninitialised source register", operations: [
        .alu(.add, .bits64, dst: .r1, source: .register(.r4)), mov(.r0, 0), .exit,
    ], expected: (0, .uninitializedRegister(.r4))),
    TrapCase(name: "r1-r5 are undefined after a helper call", operations: [
        .call(.helper(7)), mov(.r0, .r1), .exit,
    ], expected: (1, .uninitializedRegister(.r1))),
    TrapCase(name: "a callee does not see the caller's r6", operations: [
        mov(.r6, 1), .call(.local(1)), .exit, mov(.r0, .r6), .exit,
    ], expected: (3, .uninitializedRegister(.r6))),
    TrapCase(name: "write to r10", operations: [mov(.r10, 0), mov(.r0, 0), .exit],
             expected: (0, .writeToFramePointer)),
    TrapCase(name: "misaligned atomic", operations: [
        mov(.r2, 1), .atomic(.add, fetch: false, .doubleWord, dst: .r1, src: .r2, offset: 1), mov(.r0, 0), .exit,
    ], expected: (1, .misalignedAtomic(address: 0, size: 8))),
    TrapCase(name: "endless loop", operations: [.jump(offset: -1)],
             expected: (0, .instructionBudgetExhausted(1000))),
    TrapCase(name: "unbounded recursion", operations: [.call(.local(-1)), .exit],
             expected: (0, .callDepthExceeded(limit: 8))),
    TrapCase(name: "callx to an unregistered id", operations: [mov(.r3, 42), .call(.register(.r3)), .exit],
             expected: (1, .unknownHelper(42))),
]

@Suite("Checked mode")
struct CheckedModeTests {
    static let helpers = HelperTable([Helper(id: 7, name: "seven", function: { _, _, _, _, _, _ in 7 })])

    @Test("traps name the instruction and the reason", arguments: trapCases)
    func trap(_ test: TrapCase) throws {
        var interpreter = try Interpreter(program: Program(instructions: test.operations.flatMap(\.encoded)),
                                          helpers: Self.helpers)
        interpreter.instructionBudget = 1000
        var memory = [UInt8](repeating: 0, count: 16)
        let error: ExecutionError? = memory.withUnsafeMutableBytes { buffer in
            do throws(ExecutionError) {
                _ = try interpreter.run(memory: buffer)
                return nil
            } catch {
                return error
            }
        }
        guard let error else {
            Issue.record("the program ran to completion")
            return
        }
        if let (index, reason) = test.expected {
            #expect(error.index == index)
            switch (error.reason, reason) {
            case (.misalignedAtomic(_, let size), .misalignedAtomic(_, let expectedSize)):
                #expect(size == expectedSize)
            default:
                #expect(error.reason == reason)
            }
        } else {
            switch error.reason {
            case .outOfBounds: break
            default: Issue.record("expected an out-of-bounds trap, got \(error)")
            }
        }
        #expect(error.description.hasPrefix("instruction \(error.index): "))
    }

    @Test("read-only regions refuse stores but allow loads")
    func readOnlyRegion() throws {
        let table: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        try table.withUnsafeBytes { bytes in
            let region = MemoryRegion(bytes, isWritable: false)
            let address = UInt64(UInt(bitPattern: bytes.baseAddress))
            let reader = try Interpreter(program: Program(instructions: [
                Operation.load(.byte, dst: .r0, src: .r1, offset: 7, signExtend: false), .exit,
            ].flatMap(\.encoded)), helpers: HelperTable())
            #expect(try reader.run(arguments: [address], regions: [region]) == 8)
            let writer = try Interpreter(program: Program(instructions: [
                Operation.storeImmediate(.byte, dst: .r1, offset: 0, value: 9), mov(.r0, 0), .exit,
            ].flatMap(\.encoded)), helpers: HelperTable())
            #expect(throws: ExecutionError(index: 0, reason: .writeToReadOnlyMemory(address: address, size: 1))) {
                try writer.run(arguments: [address], regions: [region])
            }
        }
        #expect(table == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test("only the given arguments count as initialised")
    func arguments() throws {
        let interpreter = try Interpreter(program: Program(instructions: [
            mov(.r0, .r1), .alu(.add, .bits64, dst: .r0, source: .register(.r2)), .exit,
        ].flatMap(\.encoded)), helpers: HelperTable())
        #expect(try interpreter.run(arguments: [40, 2]) == 42)
        #expect(throws: ExecutionError(index: 1, reason: .uninitializedRegister(.r2))) {
            try interpreter.run(arguments: [40])
        }
    }
}

@Suite("Checked mode: helper arguments")
struct HelperArgumentTests {
    /// An interpreter over `operations` as a loader would bind it: every `lddw` of the map's
    /// address loads the map.
    static func interpreter(_ operations: [BPFVM.Operation], map: Map) throws -> Interpreter {
        let program = try Program(instructions: operations.flatMap(\.encoded))
        let address = UInt64(UInt(bitPattern: map.opaquePointer))
        var constants: [Int: Provenance] = [:]
        for (index, operation) in program.operations {
            if case .loadImmediate64(.immediate, _, address) = operation { constants[index] = Provenance(.map) }
        }
        return try Interpreter(program: program, helpers: StandardHelpers.table, maps: [MapLayout(map)],
                               constants: constants)
    }

    static func lookup(map: UInt64, keyOffset: Int16) -> [BPFVM.Operation] {
        [lddw(.r1, map), .storeImmediate(.word, dst: .r10, offset: -4, value: 7), mov(.r2, .r10),
         .alu(.add, .bits64, dst: .r2, source: .immediate(Int32(keyOffset))), .call(.helper(1)), .exit]
    }

    @Test("a valid lookup runs; a non-map, an out-of-bounds key and an unset register trap")
    func mapLookup() throws {
        let map = try Map(MapDefinition(name: "m", type: .hash, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0))
        let address = UInt64(UInt(bitPattern: map.opaquePointer))
        #expect(try Self.interpreter(Self.lookup(map: address, keyOffset: -4), map: map).run() == 0)
        #expect(throws: ExecutionError(index: 5, reason: .invalidHelperArgument(
            helper: "map_lookup_elem", register: 1, problem: "0x1234 is not a map (a number)"))) {
            try Self.interpreter(Self.lookup(map: 0x1234, keyOffset: -4), map: map).run()
        }
        let error = #expect(throws: ExecutionError.self) {
            try Self.interpreter(Self.lookup(map: address, keyOffset: -2), map: map).run()
        }
        guard case .invalidHelperArgument("map_lookup_elem", 2, let problem)? = error?.reason else {
            Issue.record("expected a key argument trap, got \(String(describing: error))")
            return
        }
        #expect(problem.contains("is outside the stack frame at depth 0 it points into (512 bytes at 0x"))
        #expect(throws: ExecutionError(index: 2, reason: .uninitializedRegister(.r2))) {
            try Self.interpreter([lddw(.r1, address), .call(.helper(1)), .exit], map: map).run()
        }
    }

    @Test("a map pointer cannot be dereferenced")
    func mapPointer() throws {
        let map = try Map(MapDefinition(name: "m", type: .array, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0))
        let address = UInt64(UInt(bitPattern: map.opaquePointer))
        let program: [BPFVM.Operation] = [lddw(.r1, address), .load(.doubleWord, dst: .r0, src: .r1, offset: 0,
                                                                       signExtend: false), .exit]
        #expect(throws: ExecutionError(index: 2, reason: .outOfBounds(address: address, size: 8, isWrite: false,
                                                                      object: .map("m")))) {
            try Self.interpreter(program, map: map).run()
        }
    }

    @Test("a helper buffer must fit in accessible memory")
    func buffers() throws {
        let map = try Map(MapDefinition(name: "m", type: .array, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0))
        // get_current_comm(r10 - 8, 16): 16 bytes from 8 below the stack top run past it.
        let program: [BPFVM.Operation] = [mov(.r1, .r10), .alu(.add, .bits64, dst: .r1, source: .immediate(-8)),
                                          mov(.r2, 16), .call(.helper(16)), .exit]
        let error = #expect(throws: ExecutionError.self) { try Self.interpreter(program, map: map).run() }
        guard case .invalidHelperArgument("get_current_comm", 1, _)? = error?.reason else {
            Issue.record("expected a buffer trap, got \(String(describing: error))")
            return
        }
        let fits: [BPFVM.Operation] = [mov(.r1, .r10), .alu(.add, .bits64, dst: .r1, source: .immediate(-16)),
                                       mov(.r2, 16), .call(.helper(16)), .exit]
        #expect(try Self.interpreter(fits, map: map).run() == 0)
    }
}
