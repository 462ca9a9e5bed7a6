import BPFVM
import Foundation
import Testing
import TestSupport
@testable import Verifier

/// Our verdicts against the running kernel's on generated raw socket-filter programs: a program
/// we accept and the kernel rejects is a hole in our verifier (or a rule of the kernel's we have
/// not written down); the opposite is a rule we keep stricter on purpose, counted.
@Suite("The verifier against the running kernel's",
       .enabled(if: KernelDifferential.isAvailable, "needs root and ../shared/tools/kverify.py"))
struct KernelDifferentialTests {
    @Test("generated programs: nothing we accept is refused by the kernel")
    func differential() throws {
        let count = ProcessInfo.processInfo.environment["KERNEL_DIFFERENTIAL_PROGRAMS"].flatMap(Int.init) ?? 5_000
        var programs: [[BPFVM.Operation]] = []
        for seed in 0..<count { programs.append(DifferentialProgram(seed: UInt64(seed)).operations) }
        let verdicts = try KernelDifferential.kernelVerdicts(programs)
        let environment = VerificationEnvironment(kind: .testRun(type: "socket"), context: .memory(size: 4))
        var accepted = 0, rejected = 0, stricter = 0
        var escapes: [String] = []
        for (index, (operations, kernel)) in zip(programs, verdicts).enumerated() {
            let ours = Result { () throws(VerifierError) in
                try Verifier().verify(try! Program(instructions: operations.flatMap(\.encoded)), in: environment)
            }
            switch (ours, kernel) {
            case (.success, nil): accepted += 1
            case (.failure, .some): rejected += 1
            case (.failure, nil): stricter += 1
            case (.success, let reason?):
                let text = operations.map { ConformanceSyntax.text(of: $0) }.joined(separator: "; ")
                escapes.append("seed \(index): kernel: \(reason)\n  \(text)")
            }
        }
        print("kernel differential: \(programs.count) programs: both accept \(accepted), both refuse \(rejected), "
            + "only we refuse \(stricter), only we accept \(escapes.count)")
        // The generator must give both verdicts often, or the comparison says little.
        #expect(accepted >= count / 10 && rejected >= count / 10, "accepted \(accepted), refused \(rejected)")
        #expect(escapes.isEmpty, "\(escapes.prefix(10).joined(separator: "\n"))")
    }
}

enum KernelDifferential {
    static let root = CompiledFixtures.packageDirectory
    static let script = root.appendingPathComponent("scripts/kernel-verify-batch").path
    static let kverify = root.appendingPathComponent("../shared/tools/kverify.py").standardized.path
    static let isAvailable = getuid() == 0 && FileManager.default.fileExists(atPath: kverify)

    /// The kernel's verdict on each program: nil when it accepts, else why it refuses.
    static func kernelVerdicts(_ programs: [[BPFVM.Operation]]) throws -> [String?] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kernel-differential-\(getpid()).txt")
        let lines = programs.map { operations in
            operations.flatMap(\.encoded).flatMap(\.bytes).map { String(format: "%02x", $0) }.joined()
        }
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try ToolRun("/usr/bin/env", ["python3", script, file.path])
        try #require(run.status == 0, "kernel-verify-batch failed: \(run.stderr)")
        let verdicts = run.stdout.split(separator: "\n").map(String.init)
        try #require(verdicts.count == programs.count, "\(verdicts.count) verdicts for \(programs.count) programs")
        return verdicts.map { $0 == "accept" ? nil : String($0.dropFirst("reject ".count)) }
    }
}

/// A random raw socket-filter program near the verifier's rules, so that both verdicts occur:
/// ALU on numbers and pointers, stack stores and loads at random offsets, sizes and alignments
/// (some out of the frame, some uninitialised), loads through moved pointers, forward branches,
/// helper calls, and the context's first word (`len` of the kernel's `__sk_buff`,
/// which both may read); never a context write or a copy of r1 (our raw-memory context and the
/// kernel's `__sk_buff` differ there). Registers read are mostly ones written on every path
/// (tracked across branches), and sometimes not. No division, modulo or shift by a register
/// (see below).
struct DifferentialProgram {
    private(set) var operations: [BPFVM.Operation] = []
    private var rng: SplitMix64
    /// r0, r2-r9 written on every path to here (bit n = rn).
    private var initialized: UInt16 = 0
    /// Registers holding stack pointers on every path to here.
    private var pointers: UInt16 = 0
    /// Whether r1 still holds the context on every path to here (a helper call clobbers it).
    private var contextLive = true
    /// Forward branches: where they land and what was written on their way.
    private var merges: [(target: Int, initialized: UInt16, pointers: UInt16, contextLive: Bool)] = []

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed &* 0x9e37_79b9 &+ 17)
        let length = Int.random(in: 3...24, using: &rng)
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let dst = register(from: 0...9)
            operations.append(.alu(.mov, .bits64, dst: dst, source: .immediate(immediate())))
            written(dst)
        }
        for _ in 0..<length {
            applyMerges()
            randomOperation()
        }
        // Branches still pending land on the last instructions.
        for merge in merges { join(merge) }
        merges = []
        if pick(85) {
            operations.append(.alu(.mov, .bits64, dst: .r0, source: pick(50) ? .immediate(0) : .register(readable())))
        }
        operations.append(.exit)
        // Clamp the branches that land past the end onto the last instructions.
        for (index, operation) in operations.enumerated() {
            guard case let .branch(condition, width, dst, source, offset) = operation else { continue }
            let last = operations.count - 1 - index - 1
            if Int(offset) > last {
                operations[index] = .branch(condition, width, dst: dst, source: source, offset: Int16(max(0, last)))
            }
        }
    }

    private mutating func applyMerges() {
        let here = operations.count
        for merge in merges where merge.target == here { join(merge) }
        merges.removeAll { $0.target <= here }
    }

    private mutating func join(_ merge: (target: Int, initialized: UInt16, pointers: UInt16, contextLive: Bool)) {
        initialized &= merge.initialized
        pointers &= merge.pointers
        contextLive = contextLive && merge.contextLive
    }

    private mutating func pick(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    private mutating func written(_ register: Register, pointer: Bool = false) {
        guard register.rawValue < 10 else { return }
        initialized |= 1 << register.rawValue
        if pointer { pointers |= 1 << register.rawValue } else { pointers &= ~(1 << register.rawValue) }
    }

    /// A register to compute in: one written on every path, now and then any (r10 included).
    private mutating func target() -> Register {
        let candidates = (0..<10).filter { initialized & (1 << $0) != 0 }.map { Register(rawValue: UInt8($0))! }
        return pick(4) || candidates.isEmpty ? register(from: 0...10) : candidates.randomElement(using: &rng)!
    }

    /// A base for a load or store: mostly r10 or a stack pointer, now and then anything.
    private mutating func base() -> Register {
        let stackPointers = (0..<10).filter { pointers & (1 << $0) != 0 }.map { Register(rawValue: UInt8($0))! }
        if pick(4) { return readable() }
        return pick(70) || stackPointers.isEmpty ? .r10 : stackPointers.randomElement(using: &rng)!
    }

    private func isPointer(_ register: Register) -> Bool {
        register == .r10 || register.rawValue < 10 && pointers & (1 << register.rawValue) != 0
    }

    private mutating func register(from range: ClosedRange<UInt8>) -> Register {
        var value = UInt8.random(in: range, using: &rng)
        if value == 1 { value = 2 }  // r1 (the context) is only read where both contexts agree
        return Register(rawValue: value)!
    }

    /// A register to read: one written on every path (or r10), and now and then any.
    private mutating func readable() -> Register {
        let candidates = (0..<10).filter { initialized & (1 << $0) != 0 }.map { Register(rawValue: UInt8($0))! } + [.r10]
        return pick(4) ? register(from: 0...10) : candidates.randomElement(using: &rng)!
    }

    private mutating func immediate() -> Int32 {
        [0, 1, -1, 2, 4, 7, 8, 16, 31, 32, 63, 64, -8, -16, -512, 512, 0x7fff_ffff, Int32.min, 1000].randomElement(using: &rng)!
    }

    private mutating func size() -> MemorySize { MemorySize.allCases.randomElement(using: &rng)! }

    private mutating func stackOffset() -> Int16 {
        pick(94) ? Int16(-8 * Int.random(in: 1...8, using: &rng)) : Int16(Int.random(in: -520...8, using: &rng))
    }

    private mutating func randomOperation() {
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<22:
            // No division or modulo, and shifts by immediates only: we know their results (masked
            // shift counts, shifts by unknown amounts) where the kernel knows nothing, so a program
            // whose later branch only we can decide differs in precision, not in safety.
            let op = ALUOperation.allCases.filter { ![.mov, .div, .sdiv, .mod, .smod].contains($0) }.randomElement(using: &rng)!
            let dst = target()
            let shift = [.lsh, .rsh, .arsh].contains(op)
            let source: Operand = shift || pick(60) ? .immediate(immediate()) : .register(readable())
            operations.append(.alu(op, pick(70) ? .bits64 : .bits32, dst: dst, source: source))
            if dst != .r10 { pointers &= ~(1 << dst.rawValue) }
        case 22..<32:
            let dst = register(from: 0...9), source = readable()
            let width: OperandWidth = pick(85) ? .bits64 : .bits32
            operations.append(.alu(.mov, width, dst: dst, source: .register(source)))
            written(dst, pointer: width == .bits64 && isPointer(source))
        case 32..<40:
            // A pointer into the stack.
            let dst = register(from: 2...9)
            operations.append(.alu(.mov, .bits64, dst: dst, source: .register(.r10)))
            operations.append(.alu(.add, .bits64, dst: dst, source: .immediate(Int32(stackOffset()))))
            written(dst, pointer: true)
        case 40..<54:
            let base = base(), source = readable()
            let offset = base == .r10 ? stackOffset() : Int16(8 * Int.random(in: -1...1, using: &rng))
            let memorySize: MemorySize = isPointer(source) && pick(90) ? .doubleWord : size()
            operations.append(.store(memorySize, dst: base, src: source, offset: offset))
        case 54..<60:
            operations.append(.storeImmediate(size(), dst: .r10, offset: stackOffset(), value: immediate()))
        case 60..<74:
            let base = base()
            let offset = base == .r10 ? stackOffset() : Int16(8 * Int.random(in: -1...1, using: &rng))
            let dst = register(from: 0...9)
            operations.append(.load(size(), dst: dst, src: base, offset: offset, signExtend: false))
            written(dst)
        case 74..<88:
            let condition = JumpCondition.allCases.randomElement(using: &rng)!
            let offset = Int.random(in: 0...4, using: &rng)
            let source: Operand = pick(60) ? .immediate(immediate()) : .register(readable())
            operations.append(.branch(condition, pick(70) ? .bits64 : .bits32, dst: readable(), source: source,
                                      offset: Int16(offset)))
            merges.append((operations.count + offset, initialized, pointers, contextLive))
        case 88..<94 where contextLive || pick(5):
            let dst = register(from: 0...9)
            operations.append(.load(.word, dst: dst, src: .r1, offset: 0, signExtend: false))
            written(dst)
        default:
            // bpf_ktime_get_ns: any 64-bit number for both (bpf_get_prandom_u32 is 32-bit to us and
            // any number to the kernel); r1-r5 become unreadable.
            operations.append(.call(.helper(5)))
            initialized &= ~0b11_1110
            pointers &= ~0b11_1110
            contextLive = false
            written(.r0)
        }
    }
}
