import BPFVM

/// A benchmark: a BPF program, its input, and the same computation written in Swift.
struct BenchmarkProgram: Sendable {
    let name: String
    let summary: String
    /// bpf_conformance assembly; r1 and r2 are set from `arguments(memory)`.
    let assembly: String
    /// Input memory (may be empty).
    let memory: [UInt8]
    /// The same computation in Swift, on the same input; must return what the program returns.
    let native: @Sendable ([UInt8]) -> UInt64

    static let iterations = 1_000_000

    static let all: [BenchmarkProgram] = [aluLoop, mixLoop, memoryLoop, callLoop]

    /// The tight ALU loop uBPF's figures use: `r0 += r1; r1 += 1; if r1 <= N`, 3 instructions per round.
    static let aluLoop = BenchmarkProgram(
        name: "alu-loop",
        summary: "sum of 1...1M: r0 += r1; r1 += 1; if r1 <= N goto loop",
        assembly: """
            mov %r2, \(iterations)
            mov %r0, 0
            mov %r1, 1
            loop:
            add %r0, %r1
            add %r1, 1
            jle %r1, %r2, loop
            exit
            """,
        memory: [],
        native: { _ in nativeSumLoop(rounds: UInt64(opaque(iterations))) })

    /// An ALU loop of dependent operations: a multiply-xorshift mix that no compiler can fold,
    /// 7 instructions per round.
    static let mixLoop = BenchmarkProgram(
        name: "mix-loop",
        summary: "x = (x * K + i) ^ (x >> 33) for 1M rounds, all in registers",
        assembly: """
            mov %r2, \(iterations)
            lddw %r4, 0x5851f42d4c957f2d
            mov %r0, 1
            mov %r1, 0
            loop:
            mul %r0, %r4
            add %r0, %r1
            mov %r3, %r0
            rsh %r3, 33
            xor %r0, %r3
            add %r1, 1
            jlt %r1, %r2, loop
            exit
            """,
        memory: [],
        native: { _ in nativeALULoop(rounds: UInt64(opaque(iterations))) })

    /// A memory-heavy loop: a Fletcher-style checksum over 1 MiB of input, byte by byte.
    static let memoryLoop = BenchmarkProgram(
        name: "memory-loop",
        summary: "Fletcher-64 style checksum over 1 MiB of input, one ldxb per byte, sums spilled to the stack",
        assembly: """
            mov %r2, %r1
            add %r2, \(iterations)
            stdw [%r10-8], 0
            stdw [%r10-16], 0
            loop:
            ldxb %r3, [%r1]
            ldxdw %r4, [%r10-8]
            add %r4, %r3
            stxdw [%r10-8], %r4
            ldxdw %r5, [%r10-16]
            add %r5, %r4
            stxdw [%r10-16], %r5
            add %r1, 1
            jlt %r1, %r2, loop
            ldxdw %r0, [%r10-16]
            lsh %r0, 32
            ldxdw %r4, [%r10-8]
            xor %r0, %r4
            exit
            """,
        memory: (0..<iterations).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) },
        native: { nativeChecksum($0) })

    /// A loop that makes one bpf-to-bpf call per round (5 instructions in the loop, 4 in the callee).
    static let callLoop = BenchmarkProgram(
        name: "call-loop",
        summary: "sum of square(i) & 0xffff for 1M rounds, square() a bpf-to-bpf call",
        assembly: """
            mov %r6, 0
            mov %r7, 0
            mov %r8, \(iterations)
            loop:
            mov %r1, %r6
            call local square
            add %r7, %r0
            add %r6, 1
            jlt %r6, %r8, loop
            mov %r0, %r7
            exit
            square:
            mov %r0, %r1
            mul %r0, %r1
            and %r0, 0xffff
            exit
            """,
        memory: [],
        native: { _ in nativeCallLoop(rounds: UInt64(opaque(iterations))) })
}

/// Hides a value from the optimiser, so native loops cannot be folded at compile time.
@inline(never)
func opaque<T>(_ value: T) -> T { value }

/// The sum of 1...rounds, as a loop the optimiser cannot turn into n(n+1)/2.
@inline(never)
func nativeSumLoop(rounds: UInt64) -> UInt64 {
    var sum: UInt64 = 0
    var i: UInt64 = 1
    repeat {
        sum &+= i
        i = opaque(i) &+ 1
    } while i <= rounds
    return sum
}

@inline(never)
func nativeALULoop(rounds: UInt64) -> UInt64 {
    var x: UInt64 = 1
    var i: UInt64 = 0
    repeat {
        x = x &* 0x5851_f42d_4c95_7f2d &+ i
        x ^= x >> 33
        i &+= 1
    } while i < rounds
    return x
}

@inline(never)
func nativeChecksum(_ bytes: [UInt8]) -> UInt64 {
    var a: UInt64 = 0
    var b: UInt64 = 0
    for byte in bytes {
        a &+= UInt64(byte)
        b &+= a
    }
    return b << 32 ^ a
}

@inline(never)
func square(_ x: UInt64) -> UInt64 { x &* x & 0xffff }

@inline(never)
func nativeCallLoop(rounds: UInt64) -> UInt64 {
    var sum: UInt64 = 0
    var i: UInt64 = 0
    repeat {
        sum &+= square(i)
        i &+= 1
    } while i < rounds
    return sum
}
