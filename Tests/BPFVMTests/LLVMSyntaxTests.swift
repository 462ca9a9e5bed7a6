import BPFVM
import Foundation
import Testing

// Tests of `LLVMSyntax` against the text LLVM 21's llvm-objdump prints.
//
// The table test runs everywhere; its expected strings were taken from llvm-objdump 21 output. The oracle tests
// assemble fixture programs with the Swift toolchain's clang, disassemble them with its llvm-objdump and compare
// every line; they are disabled (reported as skipped) when those tools are missing.

// MARK: - Table of hand-written cases

/// One instruction and the exact text llvm-objdump 21 prints for it.
struct LLVMSyntaxCase: Sendable, CustomTestStringConvertible {
    let operation: BPFVM.Operation
    let index: Int
    let symbol: String?
    let symbolStart: Int
    let expected: String

    init(_ operation: BPFVM.Operation, _ expected: String, at index: Int = 0, symbol: String? = nil, start: Int = 0) {
        self.operation = operation
        self.index = index
        self.symbol = symbol
        self.symbolStart = start
        self.expected = expected
    }

    var testDescription: String { expected }
}

/// The hand-written cases, by family.
private enum LLVMSyntaxTable {
    typealias C = LLVMSyntaxCase

    static let aluCases: [LLVMSyntaxCase] = [
        // ALU64 with an immediate, every operation.
        C(.alu(.add, .bits64, dst: .r1, source: .immediate(2)), "r1 += 0x2"),
        C(.alu(.add, .bits64, dst: .r1, source: .immediate(-3)), "r1 += -0x3"),
        C(.alu(.sub, .bits64, dst: .r1, source: .immediate(-3)), "r1 -= -0x3"),
        C(.alu(.mul, .bits64, dst: .r1, source: .immediate(-3)), "r1 *= -0x3"),
        C(.alu(.div, .bits64, dst: .r1, source: .immediate(-3)), "r1 /= -0x3"),
        C(.alu(.sdiv, .bits64, dst: .r1, source: .immediate(-7)), "r1 s/= -0x7"),
        C(.alu(.or, .bits64, dst: .r1, source: .immediate(-3)), "r1 |= -0x3"),
        C(.alu(.and, .bits64, dst: .r1, source: .immediate(-3)), "r1 &= -0x3"),
        C(.alu(.lsh, .bits64, dst: .r1, source: .immediate(-3)), "r1 <<= -0x3"),
        C(.alu(.rsh, .bits64, dst: .r1, source: .immediate(-3)), "r1 >>= -0x3"),
        C(.alu(.mod, .bits64, dst: .r1, source: .immediate(-3)), "r1 %= -0x3"),
        C(.alu(.smod, .bits64, dst: .r1, source: .immediate(3)), "r1 s%= 0x3"),
        C(.alu(.xor, .bits64, dst: .r1, source: .immediate(-3)), "r1 ^= -0x3"),
        C(.alu(.mov, .bits64, dst: .r1, source: .immediate(-3)), "r1 = -0x3"),
        C(.alu(.arsh, .bits64, dst: .r2, source: .immediate(0x3b)), "r2 s>>= 0x3b"),
        C(.alu(.mov, .bits64, dst: .r1, source: .immediate(0)), "r1 = 0x0"),
        C(.alu(.mov, .bits64, dst: .r1, source: .immediate(Int32.max)), "r1 = 0x7fffffff"),
        C(.alu(.mov, .bits64, dst: .r1, source: .immediate(Int32.min)), "r1 = -0x80000000"),
        C(.alu(.mov, .bits64, dst: .r1, source: .immediate(-1)), "r1 = -0x1"),
        // ALU64 with a register.
        C(.alu(.add, .bits64, dst: .r1, source: .register(.r2)), "r1 += r2"),
        C(.alu(.sub, .bits64, dst: .r1, source: .register(.r2)), "r1 -= r2"),
        C(.alu(.mul, .bits64, dst: .r1, source: .register(.r2)), "r1 *= r2"),
        C(.alu(.div, .bits64, dst: .r1, source: .register(.r2)), "r1 /= r2"),
        C(.alu(.sdiv, .bits64, dst: .r1, source: .register(.r2)), "r1 s/= r2"),
        C(.alu(.or, .bits64, dst: .r1, source: .register(.r2)), "r1 |= r2"),
        C(.alu(.and, .bits64, dst: .r1, source: .register(.r2)), "r1 &= r2"),
        C(.alu(.lsh, .bits64, dst: .r1, source: .register(.r2)), "r1 <<= r2"),
        C(.alu(.rsh, .bits64, dst: .r1, source: .register(.r2)), "r1 >>= r2"),
        C(.alu(.mod, .bits64, dst: .r1, source: .register(.r2)), "r1 %= r2"),
        C(.alu(.smod, .bits64, dst: .r1, source: .register(.r2)), "r1 s%= r2"),
        C(.alu(.xor, .bits64, dst: .r1, source: .register(.r2)), "r1 ^= r2"),
        C(.alu(.mov, .bits64, dst: .r1, source: .register(.r2)), "r1 = r2"),
        C(.alu(.arsh, .bits64, dst: .r1, source: .register(.r2)), "r1 s>>= r2"),
        C(.alu(.mov, .bits64, dst: .r10, source: .register(.r0)), "r10 = r0"),
        // ALU (32-bit) with an immediate: `w` registers, signed immediates.
        C(.alu(.add, .bits32, dst: .r1, source: .immediate(2)), "w1 += 0x2"),
        C(.alu(.add, .bits32, dst: .r1, source: .immediate(-3)), "w1 += -0x3"),
        C(.alu(.sub, .bits32, dst: .r1, source: .immediate(-3)), "w1 -= -0x3"),
        C(.alu(.mul, .bits32, dst: .r1, source: .immediate(-3)), "w1 *= -0x3"),
        C(.alu(.div, .bits32, dst: .r1, source: .immediate(-3)), "w1 /= -0x3"),
        C(.alu(.sdiv, .bits32, dst: .r1, source: .immediate(-7)), "w1 s/= -0x7"),
        C(.alu(.or, .bits32, dst: .r1, source: .immediate(-3)), "w1 |= -0x3"),
        C(.alu(.and, .bits32, dst: .r1, source: .immediate(-3)), "w1 &= -0x3"),
        C(.alu(.lsh, .bits32, dst: .r1, source: .immediate(-3)), "w1 <<= -0x3"),
        C(.alu(.rsh, .bits32, dst: .r1, source: .immediate(-3)), "w1 >>= -0x3"),
        C(.alu(.mod, .bits32, dst: .r1, source: .immediate(-3)), "w1 %= -0x3"),
        C(.alu(.smod, .bits32, dst: .r1, source: .immediate(3)), "w1 s%= 0x3"),
        C(.alu(.xor, .bits32, dst: .r1, source: .immediate(-3)), "w1 ^= -0x3"),
        C(.alu(.mov, .bits32, dst: .r1, source: .immediate(-3)), "w1 = -0x3"),
        C(.alu(.mov, .bits32, dst: .r0, source: .immediate(-1)), "w0 = -0x1"),
        C(.alu(.mov, .bits32, dst: .r1, source: .immediate(Int32.max)), "w1 = 0x7fffffff"),
        C(.alu(.mov, .bits32, dst: .r1, source: .immediate(Int32.min)), "w1 = -0x80000000"),
        C(.alu(.arsh, .bits32, dst: .r1, source: .immediate(-3)), "w1 s>>= -0x3"),
        // ALU (32-bit) with a register.
        C(.alu(.add, .bits32, dst: .r1, source: .register(.r2)), "w1 += w2"),
        C(.alu(.sub, .bits32, dst: .r1, source: .register(.r2)), "w1 -= w2"),
        C(.alu(.mul, .bits32, dst: .r1, source: .register(.r2)), "w1 *= w2"),
        C(.alu(.div, .bits32, dst: .r1, source: .register(.r2)), "w1 /= w2"),
        C(.alu(.sdiv, .bits32, dst: .r1, source: .register(.r2)), "w1 s/= w2"),
        C(.alu(.or, .bits32, dst: .r1, source: .register(.r2)), "w1 |= w2"),
        C(.alu(.and, .bits32, dst: .r1, source: .register(.r2)), "w1 &= w2"),
        C(.alu(.lsh, .bits32, dst: .r1, source: .register(.r2)), "w1 <<= w2"),
        C(.alu(.rsh, .bits32, dst: .r1, source: .register(.r2)), "w1 >>= w2"),
        C(.alu(.mod, .bits32, dst: .r1, source: .register(.r2)), "w1 %= w2"),
        C(.alu(.smod, .bits32, dst: .r1, source: .register(.r2)), "w1 s%= w2"),
        C(.alu(.xor, .bits32, dst: .r1, source: .register(.r2)), "w1 ^= w2"),
        C(.alu(.mov, .bits32, dst: .r1, source: .register(.r2)), "w1 = w2"),
        C(.alu(.arsh, .bits32, dst: .r1, source: .register(.r2)), "w1 s>>= w2"),
        // neg, movsx, byte swaps.
        C(.negate(.bits64, dst: .r1), "r1 = -r1"),
        C(.negate(.bits32, dst: .r1), "w1 = -w1"),
        C(.moveSignExtend(.bits64, dst: .r1, src: .r2, bits: 8), "r1 = (s8)r2"),
        C(.moveSignExtend(.bits64, dst: .r1, src: .r2, bits: 16), "r1 = (s16)r2"),
        C(.moveSignExtend(.bits64, dst: .r1, src: .r2, bits: 32), "r1 = (s32)r2"),
        C(.moveSignExtend(.bits32, dst: .r1, src: .r2, bits: 8), "w1 = (s8)w2"),
        C(.moveSignExtend(.bits32, dst: .r1, src: .r2, bits: 16), "w1 = (s16)w2"),
        C(.byteSwap(.toLittleEndian, dst: .r5, bits: 16), "r5 = le16 r5"),
        C(.byteSwap(.toLittleEndian, dst: .r5, bits: 32), "r5 = le32 r5"),
        C(.byteSwap(.toLittleEndian, dst: .r5, bits: 64), "r5 = le64 r5"),
        C(.byteSwap(.toBigEndian, dst: .r1, bits: 16), "r1 = be16 r1"),
        C(.byteSwap(.toBigEndian, dst: .r1, bits: 32), "r1 = be32 r1"),
        C(.byteSwap(.toBigEndian, dst: .r1, bits: 64), "r1 = be64 r1"),
        C(.byteSwap(.unconditional, dst: .r1, bits: 16), "r1 = bswap16 r1"),
        C(.byteSwap(.unconditional, dst: .r1, bits: 32), "r1 = bswap32 r1"),
        C(.byteSwap(.unconditional, dst: .r1, bits: 64), "r1 = bswap64 r1"),
    ]

    static let loadImmediateCases: [LLVMSyntaxCase] = [
        C(.loadImmediate64(.immediate, dst: .r1, value: 0x1122_3344_5566_7788), "r1 = 0x1122334455667788 ll"),
        C(.loadImmediate64(.immediate, dst: .r2, value: 0x64_0000_0000), "r2 = 0x6400000000 ll"),
        C(.loadImmediate64(.immediate, dst: .r2, value: 0), "r2 = 0x0 ll"),
        C(.loadImmediate64(.immediate, dst: .r2, value: 0xffff_ffff), "r2 = 0xffffffff ll"),
        C(.loadImmediate64(.immediate, dst: .r2, value: 0x1_0000_0000), "r2 = 0x100000000 ll"),
        C(.loadImmediate64(.immediate, dst: .r1, value: UInt64.max), "r1 = -0x1 ll"),
        C(.loadImmediate64(.immediate, dst: .r2, value: 0xffff_ffff_0000_0000), "r2 = -0x100000000 ll"),
        C(.loadImmediate64(.immediate, dst: .r2, value: 0x8000_0000_0000_0000), "r2 = -0x8000000000000000 ll"),
        C(.loadImmediate64(.immediate, dst: .r2, value: 0x7fff_ffff_ffff_ffff), "r2 = 0x7fffffffffffffff ll"),
        // Pseudo sources: LLVM 21 prints `ld_pseudo` with a tab, the source and the first slot's immediate, unsigned.
        C(.loadImmediate64(.mapByFD, dst: .r3, value: 0x5_0000_0007), "ld_pseudo\tr3, 0x1, 0x7"),
        C(.loadImmediate64(.mapValueByFD, dst: .r10, value: 0xffff_ffff), "ld_pseudo\tr10, 0x2, 0xffffffff"),
        C(.loadImmediate64(.variableByBTFID, dst: .r3, value: 0x5_0000_0007), "ld_pseudo\tr3, 0x3, 0x7"),
        C(.loadImmediate64(.codeAddress, dst: .r0, value: 0xffff_ffff_ffff_fff0), "ld_pseudo\tr0, 0x4, 0xfffffff0"),
        C(.loadImmediate64(.mapByIndex, dst: .r3, value: 0x5_0000_0007), "ld_pseudo\tr3, 0x5, 0x7"),
        C(.loadImmediate64(.mapValueByIndex, dst: .r0, value: 0x1234_5678_0000_0000), "ld_pseudo\tr0, 0x6, 0x0"),
    ]

    static let memoryCases: [LLVMSyntaxCase] = [
        C(.load(.word, dst: .r0, src: .r1, offset: 0, signExtend: false), "w0 = *(u32 *)(r1 + 0x0)"),
        C(.load(.doubleWord, dst: .r0, src: .r1, offset: -8, signExtend: false), "r0 = *(u64 *)(r1 - 0x8)"),
        C(.load(.doubleWord, dst: .r1, src: .r8, offset: 0, signExtend: false), "r1 = *(u64 *)(r8 + 0x0)"),
        C(.load(.half, dst: .r3, src: .r4, offset: Int16.min, signExtend: false), "w3 = *(u16 *)(r4 - 0x8000)"),
        C(.load(.byte, dst: .r3, src: .r4, offset: Int16.max, signExtend: false), "w3 = *(u8 *)(r4 + 0x7fff)"),
        C(.load(.byte, dst: .r0, src: .r1, offset: 0, signExtend: true), "r0 = *(s8 *)(r1 + 0x0)"),
        C(.load(.half, dst: .r3, src: .r4, offset: 2, signExtend: true), "r3 = *(s16 *)(r4 + 0x2)"),
        C(.load(.word, dst: .r3, src: .r4, offset: -0x8000, signExtend: true), "r3 = *(s32 *)(r4 - 0x8000)"),
        C(.store(.word, dst: .r10, src: .r0, offset: -4), "*(u32 *)(r10 - 0x4) = w0"),
        C(.store(.byte, dst: .r3, src: .r4, offset: -1), "*(u8 *)(r3 - 0x1) = w4"),
        C(.store(.half, dst: .r1, src: .r3, offset: 1), "*(u16 *)(r1 + 0x1) = w3"),
        C(.store(.doubleWord, dst: .r3, src: .r4, offset: -1), "*(u64 *)(r3 - 0x1) = r4"),
        C(.storeImmediate(.word, dst: .r10, offset: -8, value: 5), "*(u32 *)(r10 - 0x8) = 0x5"),
        C(.storeImmediate(.word, dst: .r3, offset: 0x7fff, value: -7), "*(u32 *)(r3 + 0x7fff) = -0x7"),
        C(.storeImmediate(.byte, dst: .r1, offset: 1, value: 255), "*(u8 *)(r1 + 0x1) = 0xff"),
        C(.storeImmediate(.half, dst: .r3, offset: 0x7fff, value: -7), "*(u16 *)(r3 + 0x7fff) = -0x7"),
        C(.storeImmediate(.doubleWord, dst: .r10, offset: -4, value: -5), "*(u64 *)(r10 - 0x4) = -0x5"),
    ]

    static let atomicCases: [LLVMSyntaxCase] = [
        C(.atomic(.add, fetch: false, .word, dst: .r1, src: .r2, offset: 4), "lock *(u32 *)(r1 + 0x4) += w2"),
        C(.atomic(.add, fetch: true, .word, dst: .r1, src: .r2, offset: -8), "w2 = atomic_fetch_add((u32 *)(r1 - 0x8), w2)"),
        C(.atomic(.or, fetch: false, .word, dst: .r1, src: .r2, offset: -8), "lock *(u32 *)(r1 - 0x8) |= w2"),
        C(.atomic(.or, fetch: true, .word, dst: .r1, src: .r2, offset: -8), "w2 = atomic_fetch_or((u32 *)(r1 - 0x8), w2)"),
        C(.atomic(.and, fetch: false, .word, dst: .r1, src: .r2, offset: -8), "lock *(u32 *)(r1 - 0x8) &= w2"),
        C(.atomic(.and, fetch: true, .word, dst: .r1, src: .r2, offset: -8), "w2 = atomic_fetch_and((u32 *)(r1 - 0x8), w2)"),
        C(.atomic(.xor, fetch: false, .word, dst: .r1, src: .r2, offset: -8), "lock *(u32 *)(r1 - 0x8) ^= w2"),
        C(.atomic(.xor, fetch: true, .word, dst: .r1, src: .r3, offset: 0), "w3 = atomic_fetch_xor((u32 *)(r1 + 0x0), w3)"),
        C(.atomic(.xchg, fetch: true, .word, dst: .r1, src: .r0, offset: 8), "w0 = xchg32_32(r1 + 0x8, w0)"),
        C(.atomic(.cmpxchg, fetch: true, .word, dst: .r1, src: .r2, offset: -8), "w0 = cmpxchg32_32(r1 - 0x8, w0, w2)"),
        C(.atomic(.add, fetch: false, .doubleWord, dst: .r0, src: .r6, offset: 0), "lock *(u64 *)(r0 + 0x0) += r6"),
        C(.atomic(.add, fetch: true, .doubleWord, dst: .r1, src: .r0, offset: 0), "r0 = atomic_fetch_add((u64 *)(r1 + 0x0), r0)"),
        C(.atomic(.or, fetch: false, .doubleWord, dst: .r1, src: .r2, offset: -8), "lock *(u64 *)(r1 - 0x8) |= r2"),
        C(.atomic(.or, fetch: true, .doubleWord, dst: .r1, src: .r2, offset: -8), "r2 = atomic_fetch_or((u64 *)(r1 - 0x8), r2)"),
        C(.atomic(.and, fetch: false, .doubleWord, dst: .r1, src: .r2, offset: 4), "lock *(u64 *)(r1 + 0x4) &= r2"),
        C(.atomic(.and, fetch: true, .doubleWord, dst: .r1, src: .r2, offset: -8), "r2 = atomic_fetch_and((u64 *)(r1 - 0x8), r2)"),
        C(.atomic(.xor, fetch: false, .doubleWord, dst: .r1, src: .r2, offset: -8), "lock *(u64 *)(r1 - 0x8) ^= r2"),
        C(.atomic(.xor, fetch: true, .doubleWord, dst: .r1, src: .r2, offset: -8), "r2 = atomic_fetch_xor((u64 *)(r1 - 0x8), r2)"),
        C(.atomic(.xchg, fetch: true, .doubleWord, dst: .r1, src: .r1, offset: 8), "r1 = xchg_64(r1 + 0x8, r1)"),
        C(.atomic(.cmpxchg, fetch: true, .doubleWord, dst: .r1, src: .r2, offset: 8), "r0 = cmpxchg_64(r1 + 0x8, r0, r2)"),
        // Byte and half-word atomics decode in LLVM 21 only as load-acquire/store-release; the RMW forms are unknown.
        C(.atomic(.add, fetch: false, .byte, dst: .r1, src: .r2, offset: -8), "<unknown>"),
        C(.atomic(.cmpxchg, fetch: true, .half, dst: .r1, src: .r2, offset: -8), "<unknown>"),
    ]

    static let jumpCases: [LLVMSyntaxCase] = [
        C(.jump(offset: 2), "goto +0x2"),
        C(.jump(offset: -8), "goto -0x8"),
        C(.jump(offset: 0), "goto +0x0"),
        C(.jump(offset: Int16.min), "goto -0x8000"),
        C(.jumpLong(offset: 2), "gotol +0x2"),
        C(.jumpLong(offset: Int32.min), "gotol -0x80000000"),
        C(.jumpLong(offset: Int32.max), "gotol +0x7fffffff"),
        C(.branch(.eq, .bits64, dst: .r0, source: .immediate(0), offset: 2), "if r0 == 0x0 goto +0x2"),
        C(.branch(.eq, .bits64, dst: .r1, source: .register(.r2), offset: -3), "if r1 == r2 goto -0x3"),
        C(.branch(.gt, .bits64, dst: .r1, source: .immediate(3), offset: 2), "if r1 > 0x3 goto +0x2"),
        C(.branch(.gt, .bits64, dst: .r1, source: .register(.r2), offset: -3), "if r1 > r2 goto -0x3"),
        C(.branch(.ge, .bits64, dst: .r1, source: .immediate(-5), offset: -3), "if r1 >= -0x5 goto -0x3"),
        C(.branch(.ge, .bits64, dst: .r1, source: .register(.r2), offset: -3), "if r1 >= r2 goto -0x3"),
        C(.branch(.set, .bits64, dst: .r1, source: .immediate(-5), offset: -3), "if r1 & -0x5 goto -0x3"),
        C(.branch(.set, .bits64, dst: .r1, source: .register(.r2), offset: 1), "if r1 & r2 goto +0x1"),
        C(.branch(.ne, .bits64, dst: .r1, source: .immediate(-5), offset: -3), "if r1 != -0x5 goto -0x3"),
        C(.branch(.ne, .bits64, dst: .r1, source: .register(.r2), offset: -3), "if r1 != r2 goto -0x3"),
        C(.branch(.sgt, .bits64, dst: .r1, source: .immediate(-5), offset: -3), "if r1 s> -0x5 goto -0x3"),
        C(.branch(.sgt, .bits64, dst: .r1, source: .register(.r2), offset: -3), "if r1 s> r2 goto -0x3"),
        C(.branch(.sge, .bits64, dst: .r1, source: .immediate(-5), offset: -3), "if r1 s>= -0x5 goto -0x3"),
        C(.branch(.sge, .bits64, dst: .r1, source: .register(.r2), offset: -3), "if r1 s>= r2 goto -0x3"),
        C(.branch(.lt, .bits64, dst: .r1, source: .immediate(-5), offset: -3), "if r1 < -0x5 goto -0x3"),
        C(.branch(.lt, .bits64, dst: .r1, source: .register(.r2), offset: -3), "if r1 < r2 goto -0x3"),
        C(.branch(.le, .bits64, dst: .r1, source: .immediate(-5), offset: -3), "if r1 <= -0x5 goto -0x3"),
        C(.branch(.le, .bits64, dst: .r1, source: .register(.r2), offset: -3), "if r1 <= r2 goto -0x3"),
        C(.branch(.slt, .bits64, dst: .r1, source: .immediate(-5), offset: -3), "if r1 s< -0x5 goto -0x3"),
        C(.branch(.slt, .bits64, dst: .r1, source: .register(.r2), offset: -3), "if r1 s< r2 goto -0x3"),
        C(.branch(.sle, .bits64, dst: .r1, source: .immediate(Int32.max), offset: 0), "if r1 s<= 0x7fffffff goto +0x0"),
        C(.branch(.sle, .bits64, dst: .r1, source: .register(.r2), offset: -3), "if r1 s<= r2 goto -0x3"),
        C(.branch(.eq, .bits32, dst: .r1, source: .immediate(-5), offset: -3), "if w1 == -0x5 goto -0x3"),
        C(.branch(.eq, .bits32, dst: .r1, source: .register(.r2), offset: -3), "if w1 == w2 goto -0x3"),
        C(.branch(.gt, .bits32, dst: .r1, source: .immediate(-5), offset: -3), "if w1 > -0x5 goto -0x3"),
        C(.branch(.gt, .bits32, dst: .r1, source: .register(.r2), offset: -3), "if w1 > w2 goto -0x3"),
        C(.branch(.ge, .bits32, dst: .r1, source: .immediate(-5), offset: -3), "if w1 >= -0x5 goto -0x3"),
        C(.branch(.ge, .bits32, dst: .r1, source: .register(.r2), offset: -3), "if w1 >= w2 goto -0x3"),
        C(.branch(.set, .bits32, dst: .r1, source: .immediate(-5), offset: -3), "if w1 & -0x5 goto -0x3"),
        C(.branch(.set, .bits32, dst: .r1, source: .register(.r2), offset: 0), "if w1 & w2 goto +0x0"),
        C(.branch(.ne, .bits32, dst: .r1, source: .immediate(-5), offset: -3), "if w1 != -0x5 goto -0x3"),
        C(.branch(.ne, .bits32, dst: .r1, source: .register(.r2), offset: -3), "if w1 != w2 goto -0x3"),
        C(.branch(.sgt, .bits32, dst: .r1, source: .immediate(-5), offset: -3), "if w1 s> -0x5 goto -0x3"),
        C(.branch(.sgt, .bits32, dst: .r1, source: .register(.r2), offset: -3), "if w1 s> w2 goto -0x3"),
        C(.branch(.sge, .bits32, dst: .r1, source: .immediate(-5), offset: -3), "if w1 s>= -0x5 goto -0x3"),
        C(.branch(.sge, .bits32, dst: .r1, source: .register(.r2), offset: -3), "if w1 s>= w2 goto -0x3"),
        C(.branch(.lt, .bits32, dst: .r1, source: .immediate(-5), offset: -3), "if w1 < -0x5 goto -0x3"),
        C(.branch(.lt, .bits32, dst: .r1, source: .register(.r2), offset: -3), "if w1 < w2 goto -0x3"),
        C(.branch(.le, .bits32, dst: .r1, source: .immediate(-5), offset: -3), "if w1 <= -0x5 goto -0x3"),
        C(.branch(.le, .bits32, dst: .r1, source: .register(.r2), offset: -3), "if w1 <= w2 goto -0x3"),
        C(.branch(.slt, .bits32, dst: .r1, source: .immediate(3), offset: -2), "if w1 s< 0x3 goto -0x2"),
        C(.branch(.slt, .bits32, dst: .r1, source: .register(.r2), offset: -3), "if w1 s< w2 goto -0x3"),
        C(.branch(.sle, .bits32, dst: .r1, source: .immediate(-5), offset: -3), "if w1 s<= -0x5 goto -0x3"),
        C(.branch(.sle, .bits32, dst: .r1, source: .register(.r2), offset: -3), "if w1 s<= w2 goto -0x3"),
        // Calls print the raw immediate whatever the kind; callx names the register in dst.
        C(.call(.helper(1)), "call 0x1"),
        C(.call(.helper(0xe)), "call 0xe"),
        C(.call(.helper(-2)), "call -0x2"),
        C(.call(.local(-1)), "call -0x1"),
        C(.call(.local(3)), "call 0x3"),
        C(.call(.kfunc(0x1234)), "call 0x1234"),
        C(.call(.kfunc(-2)), "call -0x2"),
        C(.call(.register(.r2)), "callx r2"),
        C(.call(.register(.r10)), "callx r10"),
        C(.exit, "exit"),
    ]

    /// Jump targets annotated relative to a symbol: the byte offset from the symbol, `<f>` at offset 0, and targets
    /// before the symbol wrapping as unsigned 64-bit values (observed with llvm-objdump 21).
    static let annotationCases: [LLVMSyntaxCase] = [
        C(.jump(offset: 2), "goto +0x2 <f+0x118>", at: 32, symbol: "f"),
        C(.jumpLong(offset: 2), "gotol +0x2 <f+0x120>", at: 33, symbol: "f"),
        C(.branch(.slt, .bits32, dst: .r1, source: .immediate(3), offset: -2), "if w1 s< 0x3 goto -0x2 <f+0x108>",
          at: 34, symbol: "f"),
        C(.jump(offset: -1), "goto -0x1 <f>", at: 0, symbol: "f"),
        C(.branch(.eq, .bits64, dst: .r1, source: .register(.r2), offset: -3), "if r1 == r2 goto -0x3 <f>", at: 2,
          symbol: "f"),
        C(.branch(.eq, .bits64, dst: .r1, source: .immediate(-5), offset: -3),
          "if r1 == -0x5 goto -0x3 <f+0xfffffffffffffff8>", at: 1, symbol: "f"),
        C(.jump(offset: Int16.min), "goto -0x8000 <f+0xfffffffffffc01f0>", at: 61, symbol: "f"),
        C(.jump(offset: Int16.max), "goto +0x7fff <f+0x401f0>", at: 62, symbol: "f"),
        C(.jumpLong(offset: Int32.min), "gotol -0x80000000 <f+0xfffffffc00000200>", at: 63, symbol: "f"),
        C(.jumpLong(offset: Int32.max), "gotol +0x7fffffff <f+0x400000200>", at: 64, symbol: "f"),
        C(.jump(offset: -8), "goto -0x8 <sock_loop+0x58>", at: 28, symbol: "sock_loop", start: 10),
        C(.branch(.eq, .bits64, dst: .r0, source: .immediate(0), offset: 2), "if r0 == 0x0 goto +0x2 <g>", at: 7,
          symbol: "g", start: 10),
        // Calls are never annotated, even with a symbol.
        C(.call(.local(-1)), "call -0x1", at: 5, symbol: "f"),
    ]

    static let all: [LLVMSyntaxCase] = [aluCases, loadImmediateCases, memoryCases, atomicCases, jumpCases,
                                        annotationCases].flatMap { $0 }
}

@Suite("LLVMSyntax")
struct LLVMSyntaxTests {
    @Test("text of each instruction form", arguments: LLVMSyntaxTable.all)
    func text(_ testCase: LLVMSyntaxCase) {
        let symbol = testCase.symbol.map { (name: $0, start: testCase.symbolStart) }
        #expect(LLVMSyntax.text(of: testCase.operation, at: testCase.index, symbol: symbol) == testCase.expected)
    }

    @Test("table cases are canonical decodable instructions", arguments: LLVMSyntaxTable.all)
    func canonical(_ testCase: LLVMSyntaxCase) throws {
        // The byte and half-word atomics exist only as enum values; the decoder rejects them.
        if case .atomic(_, _, .byte, _, _, _) = testCase.operation { return }
        if case .atomic(_, _, .half, _, _, _) = testCase.operation { return }
        let decoded = try BPFVM.Operation.decode(testCase.operation.encoded, at: 0)
        #expect(decoded == testCase.operation)
    }

    @Test("listing layout with and without raw bytes")
    func listingLayout() throws {
        let program = try Program(instructions: [
            BPFVM.Operation.alu(.mov, .bits64, dst: .r1, source: .immediate(2)),
            .loadImmediate64(.immediate, dst: .r1, value: 0x1122_3344_5566_7788),
            .branch(.eq, .bits64, dst: .r1, source: .immediate(0), offset: -4),
            .exit,
        ].flatMap(\.encoded))
        #expect(LLVMSyntax.listing(of: program) == """
                   0:\tb7 01 00 00 02 00 00 00\tr1 = 0x2
                   1:\t18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11\tr1 = 0x1122334455667788 ll
                   3:\t15 01 fc ff 00 00 00 00\tif r1 == 0x0 goto -0x4
                   4:\t95 00 00 00 00 00 00 00\texit

            """)
        #expect(LLVMSyntax.listing(of: program, symbol: "f", showBytes: false) == """
            0000000000000000 <f>:
                   0:\tr1 = 0x2
                   1:\tr1 = 0x1122334455667788 ll
                   3:\tif r1 == 0x0 goto -0x4 <f>
                   4:\texit

            """)
    }

    @Test("listing right-aligns instruction indices in eight columns")
    func listingIndexColumn() throws {
        let slots = [Instruction](repeating: BPFVM.Operation.jump(offset: 0).encoded[0], count: 123)
            + BPFVM.Operation.exit.encoded
        let lines = LLVMSyntax.listing(of: try Program(instructions: slots), showBytes: false).split(separator: "\n")
        #expect(lines.count == 124)
        #expect(lines.first == "       0:\tgoto +0x0")
        #expect(lines[10] == "      10:\tgoto +0x0")
        #expect(lines.last == "     123:\texit")
    }

    // MARK: Oracle tests against llvm-objdump

    @Test("listing matches llvm-objdump for assembled fixtures",
          .enabled(if: LLVMTools.available, LLVMTools.requirement),
          arguments: LLVMSyntaxFixtures.all)
    func oracleFixture(_ fixture: LLVMSyntaxFixture) throws {
        let workspace = try Workspace()
        defer { workspace.remove() }
        let object = try workspace.assemble(fixture.source, named: fixture.name, language: fixture.language,
                                            mcpu: fixture.mcpu)
        let slots = try #require(Instruction.slots(fromBytes: try workspace.textBytes(of: object)))
        let dump = try LLVMTools.disassemble(object, extraArguments: [])
        let functions = ObjdumpListing.parse(dump)
        try #require(!functions.isEmpty, "llvm-objdump printed no function for \(fixture.name)")
        #expect(functions.map(\.lines.count).reduce(0, +) > 0)

        // Every line, with the raw bytes, against text(of:) of the decoded instruction.
        var compared = 0
        for function in functions {
            for line in function.lines {
                let objdumpLine = try #require(ObjdumpLine(line), "unparsable objdump line: \(line)")
                let operation = try BPFVM.Operation.decode(slots, at: objdumpLine.index)
                let bytes = slots[objdumpLine.index..<(objdumpLine.index + operation.slotCount)].flatMap(\.bytes)
                let ours = ObjdumpLine.format(index: objdumpLine.index, bytes: bytes,
                                              text: LLVMSyntax.text(of: operation, at: objdumpLine.index,
                                                                    symbol: (function.name, function.startIndex)))
                #expect(ours == line)
                compared += 1
            }
        }
        #expect(compared > 10)

        // The whole section as a program: its listing under the first symbol matches objdump's first function
        // (later functions are annotated relative to their own symbols, so only the first block is comparable).
        let first = functions[0]
        try #require(first.startIndex == 0)
        let program = try Program(instructions: slots)
        let bare = ObjdumpListing.parse(try LLVMTools.disassemble(object, extraArguments: ["--no-show-raw-insn"]))
        for (showBytes, expected) in [(true, first.text), (false, bare[0].text)] {
            let ours = LLVMSyntax.listing(of: program, symbol: first.name, showBytes: showBytes)
                .split(separator: "\n", omittingEmptySubsequences: false).prefix(first.lines.count + 1)
                .map { $0 + "\n" }.joined()
            #expect(ours == expected)
        }
        if functions.count == 1 {
            #expect(LLVMSyntax.listing(of: program, symbol: first.name) == first.text)
        }
    }

    @Test("every generated form matches llvm-objdump line by line",
          .enabled(if: LLVMTools.available, LLVMTools.requirement))
    func oracleGenerated() throws {
        let operations = GeneratedForms.operations()
        var slots: [Instruction] = []
        var indices: [Int] = []
        for operation in operations {
            indices.append(slots.count)
            slots += operation.encoded
        }
        var source = "\t.text\n\t.globl f\n\t.type f,@function\nf:\n"
        for slot in slots { source += "\t.quad 0x\(String(slot.rawValue, radix: 16))\n" }
        let workspace = try Workspace()
        defer { workspace.remove() }
        let object = try workspace.assemble(source, named: "generated", language: .assembly, mcpu: "v4")
        let functions = ObjdumpListing.parse(try LLVMTools.disassemble(object, extraArguments: []))
        try #require(functions.count == 1)
        let lines = functions[0].lines
        try #require(lines.count == operations.count, "objdump printed \(lines.count) lines for \(operations.count)")
        var mismatches = 0
        for (position, operation) in operations.enumerated() {
            let index = indices[position]
            let ours = ObjdumpLine.format(index: index, bytes: operation.encoded.flatMap(\.bytes),
                                          text: LLVMSyntax.text(of: operation, at: index, symbol: ("f", 0)))
            if ours != lines[position] {
                mismatches += 1
                if mismatches <= 20 { Issue.record("ours:    \(ours)\nobjdump: \(lines[position])") }
            }
        }
        #expect(mismatches == 0)
        #expect(operations.count > 1000)
    }

    @Test("every raw slot the decoder accepts prints as llvm-objdump prints it",
          .enabled(if: LLVMTools.available, LLVMTools.requirement))
    func oracleRawSlots() throws {
        // Every opcode byte with assorted register, offset and immediate fields, most of them invalid: whatever
        // the strict decoder accepts must print exactly as LLVM prints the raw bytes (this checks the decoder's
        // reading of the fields as well as the printer). `-z` keeps objdump from eliding runs of zero bytes.
        let slots = RawSlots.sweep()
        var source = "\t.text\n\t.globl f\n\t.type f,@function\nf:\n"
        for slot in slots { source += "\t.quad 0x\(String(slot.rawValue, radix: 16))\n" }
        let workspace = try Workspace()
        defer { workspace.remove() }
        let object = try workspace.assemble(source, named: "raw", language: .assembly, mcpu: "v4")
        let functions = ObjdumpListing.parse(try LLVMTools.disassemble(object, extraArguments: ["-z"]))
        try #require(functions.count == 1)
        var accepted = 0, mismatches = 0, misaligned = 0, end = 0
        for line in functions[0].lines {
            // Objdump's own boundaries: the raw bytes it shows must be the slots at the index it prints.
            guard let objdumpLine = ObjdumpLine(line), let shown = objdumpLine.bytes,
                  shown.count % 8 == 0, objdumpLine.index + shown.count / 8 <= slots.count,
                  slots[objdumpLine.index..<(objdumpLine.index + shown.count / 8)].flatMap(\.bytes) == shown
            else {
                misaligned += 1
                if misaligned <= 5 { Issue.record("objdump line does not match the slots: \(line)") }
                continue
            }
            end = objdumpLine.index + shown.count / 8
            guard let operation = try? BPFVM.Operation.decode(slots, at: objdumpLine.index) else { continue }
            accepted += 1
            let ours = ObjdumpLine.format(index: objdumpLine.index, bytes: operation.encoded.flatMap(\.bytes),
                                          text: LLVMSyntax.text(of: operation, at: objdumpLine.index,
                                                                symbol: ("f", 0)))
            if ours != line {
                mismatches += 1
                if mismatches <= 20 { Issue.record("ours:    \(ours)\nobjdump: \(line)") }
            }
        }
        #expect(misaligned == 0)
        #expect(end == slots.count)
        #expect(mismatches == 0)
        #expect(accepted > 1000)
    }

    @Test("the oracle tools are LLVM 21",
          .enabled(if: LLVMTools.available, LLVMTools.requirement))
    func oracleVersion() throws {
        let version = try LLVMTools.run(LLVMTools.objdump, ["--version"])
        #expect(version.contains("LLVM version 21."), "the expected texts are those of LLVM 21; found: \(version)")
    }
}

// MARK: - Generated forms

/// Every instruction form of RFC 9669 with edge values, for the generated oracle test.
private enum GeneratedForms {
    static let immediates: [Int32] = [0, 1, -1, 2, -3, 0x10, 0x3b, 0xff, 0x7fff_ffff, Int32.min, -0x7fff_ffff]
    static let offsets: [Int16] = [0, 1, -1, 8, -8, 0x7fff, Int16.min, 0x1234]

    static func operations() -> [BPFVM.Operation] {
        var result: [BPFVM.Operation] = []
        let registers = Register.allCases
        func reg(_ n: Int) -> Register { registers[n % registers.count] }
        for width in OperandWidth.allCases {
            for (i, op) in ALUOperation.allCases.enumerated() {
                for (j, imm) in immediates.enumerated() {
                    result.append(.alu(op, width, dst: reg(i + j), source: .immediate(imm)))
                }
                for d in 0..<registers.count {
                    result.append(.alu(op, width, dst: reg(d), source: .register(reg(d * 3 + i + 1))))
                }
            }
            for d in 0..<registers.count {
                result.append(.negate(width, dst: reg(d)))
                for bits in width == .bits64 ? [8, 16, 32] : [8, 16] {
                    result.append(.moveSignExtend(width, dst: reg(d), src: reg(d + bits), bits: bits))
                }
            }
            for (i, condition) in JumpCondition.allCases.enumerated() {
                for (j, imm) in immediates.enumerated() {
                    result.append(.branch(condition, width, dst: reg(i + j), source: .immediate(imm),
                                          offset: offsets[j % offsets.count]))
                }
                for d in 0..<registers.count {
                    result.append(.branch(condition, width, dst: reg(d), source: .register(reg(d * 5 + i + 2)),
                                          offset: offsets[(d + i) % offsets.count]))
                }
            }
        }
        for kind in [ByteSwap.toLittleEndian, .toBigEndian, .unconditional] {
            for bits in [16, 32, 64] {
                for d in [0, 1, 5, 10] { result.append(.byteSwap(kind, dst: reg(d), bits: bits)) }
            }
        }
        let wideValues: [UInt64] = [0, 1, 0xffff_ffff, 0x8000_0000, 0x1_0000_0000, 0xffff_ffff_0000_0000,
                                    0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff, 0xffff_ffff_ffff_fffe,
                                    0x1122_3344_5566_7788, 0x64_0000_0000]
        for kind in LoadImmediateKind.allCases {
            for (j, value) in wideValues.enumerated() {
                result.append(.loadImmediate64(kind, dst: reg(j), value: value))
            }
        }
        for size in MemorySize.allCases {
            for (j, offset) in offsets.enumerated() {
                result.append(.load(size, dst: reg(j), src: reg(j + 3), offset: offset, signExtend: false))
                if size != .doubleWord {
                    result.append(.load(size, dst: reg(j + 1), src: reg(j + 7), offset: offset, signExtend: true))
                }
                result.append(.store(size, dst: reg(j + 2), src: reg(j + 5), offset: offset))
                result.append(.storeImmediate(size, dst: reg(j + 4), offset: offset,
                                              value: immediates[j % immediates.count]))
            }
        }
        for size in [MemorySize.word, .doubleWord] {
            for (i, op) in AtomicOperation.allCases.enumerated() {
                for fetch in op.alwaysFetches ? [true] : [false, true] {
                    for (j, offset) in offsets.enumerated() {
                        result.append(.atomic(op, fetch: fetch, size, dst: reg(i + j), src: reg(i + 2 * j + 1),
                                              offset: offset))
                    }
                }
            }
        }
        for offset in offsets { result.append(.jump(offset: offset)) }
        for imm in immediates + [100_000, -100_000] { result.append(.jumpLong(offset: imm)) }
        for imm in immediates {
            result.append(.call(.helper(imm)))
            result.append(.call(.local(imm)))
            result.append(.call(.kfunc(imm)))
        }
        for d in 0..<registers.count { result.append(.call(.register(reg(d)))) }
        result.append(.exit)
        return result + nonCanonical()
    }

    /// Enum values the decoder never produces; their text must still be what objdump prints for their encoding.
    static func nonCanonical() -> [BPFVM.Operation] {
        var result: [BPFVM.Operation] = []
        for width in OperandWidth.allCases {
            for bits in [0, 1, 64] + (width == .bits32 ? [32] : []) {
                result.append(.moveSignExtend(width, dst: .r1, src: .r2, bits: bits))
            }
        }
        for kind in [ByteSwap.toLittleEndian, .toBigEndian, .unconditional] {
            for bits in [0, 8, 128] { result.append(.byteSwap(kind, dst: .r3, bits: bits)) }
        }
        result.append(.load(.doubleWord, dst: .r1, src: .r2, offset: 8, signExtend: true))
        for size in [MemorySize.byte, .half] {
            for op in AtomicOperation.allCases {
                for fetch in [false, true] {
                    result.append(.atomic(op, fetch: fetch, size, dst: .r1, src: .r2, offset: -8))
                }
            }
        }
        // xchg and cmpxchg always fetch, whatever the flag says.
        result.append(.atomic(.xchg, fetch: false, .word, dst: .r1, src: .r2, offset: 4))
        result.append(.atomic(.cmpxchg, fetch: false, .doubleWord, dst: .r1, src: .r2, offset: 4))
        return result
    }
}

/// A sweep over raw slots: every opcode byte with assorted fields, and `lddw` with every `src` value.
private enum RawSlots {
    static func sweep() -> [Instruction] {
        // Register pairs: valid with and without a source, out of range (11) in either field, the frame pointer.
        let registers: [(dst: UInt8, src: UInt8)] = [(1, 2), (3, 0), (0, 0), (10, 3), (11, 1), (1, 11), (9, 10)]
        // Offsets that select variants (sdiv/smod, movsx, addr_space_cast) or are memory displacements.
        let offsets: [Int16] = [0, 1, -8, 8, 16, 32]
        // Immediates that select variants (byte swaps, atomics) or are plain values.
        let immediates: [Int32] = [0, 1, -1, 16, 32, 64, 0x10000]
        let atomicImmediates: [Int32] = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe0, 0xe1, 0xf0, 0xf1,
                                         0x08, 0x100, 0x110, 0x201]
        var result: [Instruction] = []
        for opcode in UInt8(0)...255 where opcode != Opcode.lddw {
            let isAtomic = opcode & 0x07 == Opcode.stx && opcode & 0xe0 == Opcode.modeAtomic
            for (dst, src) in registers[0..<2] {
                for offset in offsets {
                    for imm in immediates + (isAtomic ? atomicImmediates : []) {
                        result.append(Instruction(opcode: opcode, dst: dst, src: src, offset: offset, imm: imm))
                    }
                }
            }
            for (dst, src) in registers {
                for (offset, imm) in [(0, 0), (0, 16), (-8, 1)] as [(Int16, Int32)] {
                    result.append(Instruction(opcode: opcode, dst: dst, src: src, offset: offset, imm: imm))
                }
            }
        }
        for src in UInt8(0)...15 {
            for dst in [0, 1, 11] as [UInt8] {
                for offset in [0, 1] as [Int16] {
                    result.append(Instruction(opcode: Opcode.lddw, dst: dst, src: src, offset: offset, imm: -5))
                    result.append(Instruction(opcode: 0, imm: 7))
                    result.append(Instruction(opcode: Opcode.lddw, dst: dst, src: src, offset: offset, imm: 5))
                    result.append(Instruction(opcode: 0, dst: 1, imm: -7))
                }
            }
        }
        return result
    }
}

// MARK: - Fixtures

/// A fixture program: LLVM BPF assembly (or C) assembled with clang at test time.
struct LLVMSyntaxFixture: Sendable, CustomTestStringConvertible {
    enum Language: Sendable { case assembly, c }
    let name: String
    let language: Language
    let mcpu: String
    let source: String
    var testDescription: String { name }
}

private enum LLVMSyntaxFixtures {
    static let all: [LLVMSyntaxFixture] = [alu, memory, atomics, jumps, compiledC, compiledCv3, compiledCv2]

    /// Every ALU / ALU64 form, 64-bit immediates and pseudo loads, in LLVM's assembler syntax.
    static let alu = LLVMSyntaxFixture(name: "alu", language: .assembly, mcpu: "v4", source: """
            .text
            .globl f
            .type f,@function
        f:
            r1 += 2
            r1 -= -3
            r1 *= 0x7fffffff
            r1 /= -0x80000000
            r1 s/= 7
            r1 s/= r2
            r3 |= r4
            r3 &= 0xff
            r5 <<= 3
            r5 >>= r6
            r7 %= 10
            r7 s%= 3
            r7 s%= r8
            r8 ^= -1
            r9 = r10
            r0 = 0
            r2 s>>= 0x3b
            r2 s>>= r3
            w1 += 2
            w1 -= w2
            w1 *= -3
            w1 /= w2
            w1 s/= -7
            w1 s/= w2
            w3 |= 0x10
            w3 &= w4
            w5 <<= 1
            w5 >>= w6
            w7 %= w8
            w7 s%= 3
            w8 ^= w9
            w1 = w2
            w0 = -1
            w4 s>>= 31
            r1 = -r1
            w1 = -w1
            r1 = (s8)r2
            r1 = (s16)r2
            r1 = (s32)r2
            w1 = (s8)w2
            w1 = (s16)w2
            r1 = be16 r1
            r1 = be32 r1
            r1 = be64 r1
            r1 = le16 r1
            r1 = le32 r1
            r1 = le64 r1
            r1 = bswap16 r1
            r1 = bswap32 r1
            r1 = bswap64 r1
            r1 = 0x1122334455667788 ll
            r2 = 0x6400000000 ll
            r3 = -1 ll
            r4 = 0x8000000000000000 ll
            r5 = 0xffffffff ll
            ld_pseudo r1, 1, 7
            ld_pseudo r2, 2, 0xfffffff0
            ld_pseudo r3, 3, 0
            ld_pseudo r4, 4, 1
            ld_pseudo r5, 5, 2
            ld_pseudo r6, 6, 3
            exit
        """)

    /// Loads, sign-extending loads, stores of registers and immediates, every size.
    static let memory = LLVMSyntaxFixture(name: "memory", language: .assembly, mcpu: "v4", source: """
            .text
            .globl f
            .type f,@function
        f:
            w0 = *(u32 *)(r1 + 0)
            r0 = *(u64 *)(r1 - 8)
            w2 = *(u16 *)(r3 + 0x7fff)
            w2 = *(u8 *)(r3 - 0x8000)
            r0 = *(s8 *)(r1 + 0)
            r0 = *(s16 *)(r1 + 2)
            r0 = *(s32 *)(r10 - 4)
            *(u32 *)(r10 - 4) = w0
            *(u64 *)(r10 - 16) = r1
            *(u16 *)(r1 + 1) = w3
            *(u8 *)(r1 + 2) = w4
            *(u32 *)(r10 - 8) = 5
            *(u64 *)(r10 - 8) = -5
            *(u16 *)(r10 - 2) = 0x7fff
            *(u8 *)(r1 + 1) = 255
            exit
        """)

    /// All atomic read-modify-write forms of RFC 9669, 32 and 64 bits.
    static let atomics = LLVMSyntaxFixture(name: "atomics", language: .assembly, mcpu: "v4", source: """
            .text
            .globl f
            .type f,@function
        f:
            lock *(u32 *)(r1 + 4) += w2
            lock *(u32 *)(r1 + 4) |= w2
            lock *(u32 *)(r1 + 4) &= w2
            lock *(u32 *)(r1 + 4) ^= w2
            lock *(u64 *)(r1 - 8) += r2
            lock *(u64 *)(r1 - 8) |= r2
            lock *(u64 *)(r1 - 8) &= r2
            lock *(u64 *)(r1 - 8) ^= r2
            w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)
            w2 = atomic_fetch_or((u32 *)(r1 + 0), w2)
            w2 = atomic_fetch_and((u32 *)(r1 + 0), w2)
            w2 = atomic_fetch_xor((u32 *)(r1 + 0), w2)
            r0 = atomic_fetch_add((u64 *)(r1 + 0), r0)
            r0 = atomic_fetch_or((u64 *)(r1 + 0), r0)
            r0 = atomic_fetch_and((u64 *)(r1 + 0), r0)
            r0 = atomic_fetch_xor((u64 *)(r1 + 0), r0)
            w0 = xchg32_32(r1 + 8, w0)
            r3 = xchg_64(r1 - 8, r3)
            w0 = cmpxchg32_32(r1 + 8, w0, w2)
            r0 = cmpxchg_64(r1 + 8, r0, r2)
            exit
        """)

    /// Every jump condition in JMP and JMP32, goto, gotol, calls, callx and exit, across two functions so that
    /// the target annotation of the second one is relative to its own symbol.
    static let jumps = LLVMSyntaxFixture(name: "jumps", language: .assembly, mcpu: "v4", source: """
            .text
            .globl f
            .type f,@function
        f:
            if r1 == 0 goto +0
            if r1 == r2 goto +0
            if r1 > 3 goto +0
            if r1 > r2 goto +0
            if r1 >= -5 goto +0
            if r1 >= r2 goto +0
            if r1 & 1 goto +0
            if r1 & r2 goto +0
            if r1 != 0x7fffffff goto +0
            if r1 != r2 goto +0
            if r1 s> -1 goto +0
            if r1 s> r2 goto +0
            if r1 s>= 2 goto +0
            if r1 s>= r2 goto +0
            if r1 < 2 goto +0
            if r1 < r2 goto +0
            if r1 <= 2 goto +0
            if r1 <= r2 goto +0
            if r1 s< 2 goto +0
            if r1 s< r2 goto +0
            if r1 s<= 2 goto +0
            if r1 s<= r2 goto +0
            if w1 == 0 goto -1
            if w1 == w2 goto -2
            if w1 > 3 goto -3
            if w1 > w2 goto -4
            if w1 >= -5 goto -5
            if w1 >= w2 goto -6
            if w1 & 1 goto -7
            if w1 & w2 goto -8
            if w1 != 0x7fffffff goto +1
            if w1 != w2 goto +2
            if w1 s> -1 goto +3
            if w1 s> w2 goto +4
            if w1 s>= 2 goto +5
            if w1 s>= w2 goto +6
            if w1 < 2 goto +7
            if w1 < w2 goto +8
            if w1 <= 2 goto +9
            if w1 <= w2 goto +10
            if w1 s< 3 goto -2
            if w1 s< w2 goto +0
            if w1 s<= 2 goto +0
            if w1 s<= w2 goto +0
            goto +2
            goto -1
            gotol +1
            gotol -2
            call 1
            call 0xe
            .quad 0xffffffff00001085
            .quad 0x0000123400002085
            callx r2
            exit
            .globl g
            .type g,@function
        g:
            r0 = 0
            if r0 == 0 goto +1
            goto -3
            if w0 s< 3 goto -4
            exit
        """)

    /// A small C program compiled at -O2 for cpu v4: the code clang really emits, including a local call and
    /// 64-bit immediates.
    static let compiledC = LLVMSyntaxFixture(name: "compiled-c-v4", language: .c, mcpu: "v4", source: cSource)
    /// The same program for cpu v3 (no signed division, sign-extending moves and loads, gotol or bswap).
    static let compiledCv3 = LLVMSyntaxFixture(name: "compiled-c-v3", language: .c, mcpu: "v3", source: cSource)
    /// The same program for cpu v2 (no ALU32 or JMP32 by default, `lock` atomics only).
    static let compiledCv2 = LLVMSyntaxFixture(name: "compiled-c-v2", language: .c, mcpu: "v2", source: cSource)

    static let cSource = """
        typedef unsigned long u64;
        typedef long s64;
        typedef unsigned int u32;
        typedef int s32;
        typedef signed char s8;
        typedef short s16;

        static __attribute__((noinline)) s64 mix(s64 a, s32 b, s8 c, s16 d) {
        #if __BPF_CPU_VERSION__ >= 4
            s64 r = a / b + (a % 7) - (c << 3) + (d >> 2);
        #else
            s64 r = (u64)a / (u32)b + ((u64)a % 7) - (c << 3) + (d >> 2);
        #endif
            if (r > 1000) r ^= 0x1122334455667788L;
            return r * 3 + (u32)b / 5;
        }

        u64 counter;

        __attribute__((noinline)) int f(u64 *p, s8 *q, u32 n) {
            s64 total = 0;
            for (u32 i = 0; i < n && i < 64; i++) {
                total += mix(p[i], (s32)p[i + 1], q[i], (s16)p[i + 2]);
                if ((s32)total < -5) break;
            }
            __sync_fetch_and_add(&counter, total);
        #if __BPF_CPU_VERSION__ >= 3
            u64 old = __sync_lock_test_and_set(&p[3], 7);
            __sync_val_compare_and_swap(&p[4], old, 9);
            __sync_fetch_and_or((u32 *)q, 3);
            __sync_fetch_and_xor(&p[6], total);
        #endif
            return (int)(total >> 3) + __builtin_bswap32(n) + (s32)__builtin_bswap64(p[5]);
        }
        """
}

// MARK: - Running the LLVM tools

/// The Swift toolchain's LLVM 21 tools (not the system's LLVM 14 in /usr/bin).
private enum LLVMTools {
    static let directory = "/opt/swift/usr/bin"
    static let clang = directory + "/clang"
    static let objcopy = directory + "/llvm-objcopy"
    static let objdump = directory + "/llvm-objdump"

    /// Whether the oracle tests can run.
    static let available = [clang, objcopy, objdump].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    /// Why an oracle test is skipped when they cannot.
    static let requirement: Comment = "needs clang, llvm-objcopy and llvm-objdump of LLVM 21 in /opt/swift/usr/bin"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a tool and returns its standard output; throws with its standard error if it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("llvm-syntax-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout"), errURL = directory.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        let stdout = String(decoding: try Data(contentsOf: outURL), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            let stderr = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) failed "
                + "(\(process.terminationStatus)): \(stderr)")
        }
        return stdout
    }

    static func disassemble(_ object: URL, extraArguments: [String]) throws -> String {
        try run(objdump, ["-d", "-j", ".text"] + extraArguments + [object.path])
    }
}

/// A fresh temporary directory for one test.
private struct Workspace {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("llvm-syntax-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Assembles (or compiles) `source` for BPF and returns the object file.
    func assemble(_ source: String, named name: String, language: LLVMSyntaxFixture.Language, mcpu: String) throws
        -> URL
    {
        let input = url.appendingPathComponent(name + (language == .assembly ? ".s" : ".c"))
        let object = url.appendingPathComponent(name + ".o")
        try Data((source + "\n").utf8).write(to: input)
        var arguments = ["-target", "bpf", "-mcpu=\(mcpu)", "-c", input.path, "-o", object.path]
        if language == .c { arguments = ["-O2"] + arguments }
        try LLVMTools.run(LLVMTools.clang, arguments)
        return object
    }

    /// The raw bytes of the object's `.text` section.
    func textBytes(of object: URL) throws -> [UInt8] {
        let binary = url.appendingPathComponent(object.deletingPathExtension().lastPathComponent + ".bin")
        try LLVMTools.run(LLVMTools.objcopy, ["-O", "binary", "--only-section=.text", object.path, binary.path])
        return Array(try Data(contentsOf: binary))
    }
}

/// The functions of an `llvm-objdump -d` listing: symbol, start and the instruction lines under it.
private struct ObjdumpListing {
    let name: String
    let startIndex: Int
    /// The `<sym>:` header and every instruction line, each ending in a newline (the block `listing` produces).
    let text: String
    let lines: [String]

    static func parse(_ dump: String) -> [ObjdumpListing] {
        var result: [ObjdumpListing] = []
        var current: (name: String, start: Int, header: String, lines: [String])?
        func finish() {
            if let current {
                let text = ([current.header] + current.lines).map { $0 + "\n" }.joined()
                result.append(ObjdumpListing(name: current.name, startIndex: current.start, text: text,
                                             lines: current.lines))
            }
        }
        for line in dump.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasSuffix(">:"), let space = line.firstIndex(of: " "), let address = Int(line[..<space], radix: 16) {
                finish()
                let name = String(line[line.index(space, offsetBy: 2)..<line.index(line.endIndex, offsetBy: -2)])
                current = (name, address / 8, line, [])
            } else if current != nil, ObjdumpLine(line) != nil {
                current!.lines.append(line)
            }
        }
        finish()
        return result
    }
}

/// One instruction line of llvm-objdump: `%8u:\t<bytes>\t<text>`.
private struct ObjdumpLine {
    let index: Int
    let line: String

    init?(_ line: String) {
        guard let colon = line.firstIndex(of: ":"), line[line.index(after: colon)...].hasPrefix("\t"),
              let index = Int(line[..<colon].drop(while: { $0 == " " }))
        else { return nil }
        self.index = index
        self.line = line
    }

    /// The raw bytes column (nil in `--no-show-raw-insn` output or if it does not parse).
    var bytes: [UInt8]? {
        let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3 else { return nil }
        var result: [UInt8] = []
        for pair in fields[1].split(separator: " ") {
            guard pair.count == 2, let byte = UInt8(pair, radix: 16) else { return nil }
            result.append(byte)
        }
        return result
    }

    static func format(index: Int, bytes: [UInt8], text: String) -> String {
        let number = String(index)
        let hex = bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: " ")
        return String(repeating: " ", count: max(0, 8 - number.count)) + number + ":\t" + hex + "\t" + text
    }
}
