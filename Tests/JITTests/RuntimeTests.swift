import BPFVM
import Foundation
import Testing
import TestSupport
import Verifier
@testable import JIT

/// The runtime of compiled code: fault-safe loads, tail calls and their limit, `callx` traps,
/// inline array lookups, constant blinding, W^X memory near the helpers, compile errors.
@Suite("JIT runtime")
struct RuntimeTests {
    static let clang = "/opt/swift/usr/bin/clang"

    static func object(_ name: String) throws -> LoadedObject {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Programs/\(name).c")
        let file = try CompiledFixtures.object(
            compiling: source, clang: clang,
            arguments: ["-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I/usr/include/x86_64-linux-gnu"], folder: "jit")
        let object = try LoadedObject(try Object(bytes: [UInt8](try Data(contentsOf: file)), name: name))
        try object.load()
        return object
    }

    static func program(_ text: String) throws -> Program { try Program(instructions: Assembler.assemble(text)) }

    @Test("a fault-safe load of an unmapped address reads 0 and the program goes on; others read memory",
          arguments: [MemorySize.byte, .half, .word, .doubleWord])
    func faultSafeLoads(size: MemorySize) throws {
        // r0 = *(size *)(r1 + 8) + 1, with the load in the exception table.
        let operations: [BPFVM.Operation] = [
            .load(size, dst: .r0, src: .r1, offset: 8, signExtend: false),
            .alu(.add, .bits64, dst: .r0, source: .immediate(1)),
            .exit,
        ]
        let program = try Program(instructions: operations.flatMap(\.encoded))
        let unit = JITCompiler.Unit(program: program, helpers: HelperTable(), stackDepths: nil, faultSafeLoads: [0])
        let compiled = try JITCompiler().compile([unit])[0]
        // Page 0 and a non-canonical address fault; the handler makes the load read 0.
        #expect(try compiled.run(arguments: [0]) == 1)
        #expect(try compiled.run(arguments: [0x8000_0000_0000_0000]) == 1)
        var memory = [UInt8](repeating: 0xff, count: 16)
        let value = try memory.withUnsafeMutableBytes { try compiled.run(memory: $0) }
        #expect(value == (size == .doubleWord ? 0 : (UInt64(1) << (8 * UInt64(size.byteCount))) - 1 + 1))
    }

    @Test("tail calls: at most 33 in a run, then the call falls through, as in the interpreter")
    func tailCallLimit() throws {
        for engine in ["interpreter", "jit"] {
            let object = try Self.object("tail_loop")
            let again = try object.program(named: "again")
            try #require(object.map(named: "jump_table")).setProgram(again, at: 0)
            let verified = try again.verify(contextSize: 16)
            let result: UInt64
            if engine == "jit" {
                result = try JITCompiler().compile(verified, loaded: again).testRun(input: [UInt8](repeating: 0, count: 16)).result
            } else {
                result = try verified.testRun(input: [UInt8](repeating: 0, count: 16)).result
            }
            #expect(result == 7, "\(engine)")
            let entries = try #require(object.map(named: "entries"))
            #expect(entries.value(forKey: UInt32(0), as: UInt64.self) == 34, "\(engine): one entry and 33 tail calls")
            try #require(object.map(named: "jump_table")).removeAllPrograms()
        }
    }

    /// A program array may hold any program of the object; code running unchecked may go on
    /// only into a program proven safe for the context it was given.
    struct TailTarget: CustomStringConvertible, Sendable {
        let target: String
        /// The context size the target is verified for (nil: it is not verified).
        let verifiedFor: Int?
        let result: UInt64
        var description: String { "\(target) (verified for \(verifiedFor.map { "\($0) bytes" } ?? "nothing"))" }
    }

    @Test("a tail call from unchecked code reaches only programs verified for the same context",
          arguments: ["interpreter", "jit"], [
              TailTarget(target: "proven", verifiedFor: 16, result: 2),
              TailTarget(target: "unproven", verifiedFor: nil, result: 1),
              TailTarget(target: "wide", verifiedFor: 32, result: 1),
          ])
    func tailCallsReachOnlyProvenPrograms(engine: String, case: TailTarget) throws {
        let object = try Self.object("tail_targets")
        let dispatch = try object.program(named: "dispatch")
        let target = try object.program(named: `case`.target)
        try #require(object.map(named: "targets")).setProgram(target, at: 0)
        let verified = try dispatch.verify(contextSize: 16)
        var group = [(verified: verified, loaded: dispatch)]
        if let size = `case`.verifiedFor { group.append((try target.verify(contextSize: size), target)) }
        if `case`.target == "unproven" {
            #expect(throws: VerifierError.self) { try target.verify(contextSize: 16) }
        }
        let input = [UInt8](repeating: 0, count: 16)
        let result = engine == "jit" ? try JITCompiler().compile(group)[0].testRun(input: input).result
            : try verified.testRun(input: input).result
        #expect(result == `case`.result)
        // Checked mode follows every tail call, and checks what it runs.
        if `case`.target == "unproven" {
            #expect(throws: TestRunError.self) { try dispatch.testRun(input: input) }
        }
    }

    @Test("a call the loader poisoned compiles to a trap that names it: never reached when verified, a trap otherwise")
    func poisonedCalls() throws {
        // if r2 == 0 (it is not: r2 holds the context's size) call the poisoned helper; r0 = 3.
        let source = """
            jne %r2, 0, +1
            call 195896080
            mov %r0, 3
            exit
            """
        let poisoned = PoisonedInstruction(instructionIndex: 1, reason: "CO-RE relocation of 'task_struct.state'")
        let metadata = ProgramMetadata(name: "guarded", section: "socket", kind: .testRun(type: "socket"), poisoned: [poisoned])
        let program = try Program(instructions: Assembler.assemble(source), metadata: metadata)
        let verified = try Verifier().verify(program, in: VerificationEnvironment(context: .memory(size: 8, lengthInR2: true)))
        #expect(try JITCompiler().compile(verified).testRun(input: [UInt8](repeating: 0, count: 8)).result == 3)
        // Unverified, with r2 = 0: the poisoned call runs and traps, as in the interpreter.
        let reached = try JITCompiler().compileUnverified(program, helpers: HelperTable())
        let error = #expect(throws: ExecutionError.self) { try reached.run(arguments: [0, 0]) }
        #expect(error?.index == 1)
        #expect(error?.reason == .poisonedInstruction(poisoned.reason))
    }

    @Test("array map lookups compiled inline find the values the host sees, and nothing past the end")
    func inlineLookups() throws {
        let object = try Self.object("tail_loop")
        let lookups = try object.program(named: "lookups")
        let entries = try #require(object.map(named: "entries"))
        for key in 0..<4 { try entries.setValue(UInt64(10 * key), forKey: UInt32(key)) }
        let compiled = try JITCompiler().compile(try lookups.verify(contextSize: 16), loaded: lookups)
        // Keys 0-3 exist (1 + value each), 4 and 5 do not.
        #expect(try compiled.testRun(input: [UInt8](repeating: 0, count: 16)).result == 4 + 60)
        #expect(try lookups.verify(contextSize: 16).testRun(input: [UInt8](repeating: 0, count: 16)).result == 64)
    }

    @Test("callx to an id with no helper traps at the callx, as in the interpreter")
    func callxTrap() throws {
        let program = try Self.program("""
            mov %r1, 1
            mov %r6, 99
            callx %r6
            exit
            """)
        let helpers = HelperTable([Helper(id: 1, name: "one", function: { a, _, _, _, _, _ in a + 1 })])
        let interpreter = try Interpreter(program: program, helpers: helpers)
        let expected = #expect(throws: ExecutionError.self) { try interpreter.runTrusted(memory: nil) }
        let compiled = try JITCompiler().compileUnverified(program, helpers: helpers)
        let actual = #expect(throws: ExecutionError.self) { try compiled.run(memory: nil) }
        #expect(actual == expected)
        #expect(actual?.reason == .unknownHelper(99))
        // A known id calls its helper.
        let known = try JITCompiler().compileUnverified(try Self.program("mov %r1, 41\nmov %r6, 1\ncallx %r6\nexit"),
                                                        helpers: helpers)
        #expect(try known.run(memory: nil) == 42)
    }

    @Test("constant blinding: no immediate the program chose is in the code, and results are unchanged")
    func blinding() throws {
        let program = try Self.program("""
            lddw %r2, 0x1234567887654321
            mov %r0, 0x5a5a5a5a
            add %r0, 0x13572468
            xor %r0, %r2
            stw [%r1+0], 0x24682468
            ldxw %r3, [%r1+0]
            add %r0, %r3
            jeq %r3, 0x24682468, +1
            mov %r0, 0
            mul %r0, 0x11223344
            exit
            """)
        let plain = try JITCompiler().compileUnverified(program, helpers: HelperTable())
        let blinded = try JITCompiler(options: JITOptions(blindsConstants: true)).compileUnverified(program, helpers: HelperTable())
        var first = [UInt8](repeating: 0, count: 8), second = first
        #expect(try first.withUnsafeMutableBytes { try plain.run(memory: $0) }
            == second.withUnsafeMutableBytes { try blinded.run(memory: $0) })
        let code = blinded.code
        for constant: UInt32 in [0x8765_4321, 0x1234_5678, 0x5a5a_5a5a, 0x1357_2468, 0x2468_2468, 0x1122_3344] {
            let bytes = withUnsafeBytes(of: constant.littleEndian, Array.init)
            let found = (0...(code.count - 4)).contains { Array(code[$0..<($0 + 4)]) == bytes }
            #expect(!found, "0x\(String(constant, radix: 16)) appears in the blinded code")
            let inPlain = (0...(plain.code.count - 4)).contains { Array(plain.code[$0..<($0 + 4)]) == bytes }
            #expect(inPlain, "0x\(String(constant, radix: 16)) should appear in the plain code")
        }
    }

    /// The permissions /proc/self/maps gives the page holding `address` ("r-xp", ...), or nil.
    static func permissions(of address: UInt) throws -> String? {
        for line in try String(contentsOfFile: "/proc/self/maps", encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ")
            let range = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            if range.count == 2, address >= range[0], address < range[1] { return String(fields[1]) }
        }
        return nil
    }

    @Test("code is read+execute, never writable, within 2 GiB of the helpers, and not executable once freed")
    func executableMemory() throws {
        let program = try Self.program("mov %r1, 1\ncall 1\nexit")
        let helper: HelperFunction = { a, _, _, _, _, _ in a + 1 }
        var compiled: CompiledProgram? = try JITCompiler().compileUnverified(
            program, helpers: HelperTable([Helper(id: 1, name: "one", function: helper)]))
        let address = compiled!.address
        #expect(try Self.permissions(of: address) == "r-xp")
        let target = UInt(bitPattern: unsafeBitCast(helper, to: UnsafeRawPointer.self))
        #expect((address > target ? address - target : target - address) < 1 << 31)
        // A direct call: e8 rel32, no call through a register.
        #expect(compiled!.code.contains(0xe8))
        #expect(try compiled!.run(memory: nil) == 2)
        compiled = nil
        #expect(try Self.permissions(of: address) != "r-xp")
    }

    @Test("programs that cannot be compiled as native functions are refused with the reason", arguments: [
        ("recursion", "call local self\nexit\nself:\ncall local self\nexit", JITError.Reason.recursion),
        ("jump into another function", "call local f\nja g\nexit\nf:\nmov %r0, 1\ng:\nexit",
         JITError.Reason.jumpLeavesFunction(target: 4)),
        ("kfunc", "call runtime 7\nexit", JITError.Reason.kfuncCall(7)),
    ])
    func refused(_ name: String, _ text: String, _ reason: JITError.Reason) throws {
        let program = try Self.program(text)
        let error = #expect(throws: JITError.self) { try JITCompiler().compileUnverified(program, helpers: HelperTable()) }
        #expect(error?.reason == reason)
    }

    @Test("a chain of nine nested calls exceeds the eight frames a run has")
    func callChainTooDeep() throws {
        var text = "call local f1\nexit\n"
        for level in 1...8 { text += "f\(level):\n" + (level < 8 ? "call local f\(level + 1)\n" : "mov %r0, 1\n") + "exit\n" }
        let error = #expect(throws: JITError.self) {
            try JITCompiler().compileUnverified(try Self.program(text), helpers: HelperTable())
        }
        #expect(error?.reason == .callChainTooDeep(frames: 9, limit: 8))
    }

    @Test("the verified program given with a loaded program must be that program")
    func mismatchedVerification() throws {
        let object = try Self.object("tail_loop")
        let again = try object.program(named: "again"), lookups = try object.program(named: "lookups")
        let error = #expect(throws: JITError.self) {
            try JITCompiler().compile(try again.verify(contextSize: 16), loaded: lookups)
        }
        #expect(error?.reason == .notTheVerifiedProgram("lookups"))
    }
}
