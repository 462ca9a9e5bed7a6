import BPFVM
import Testing
@testable import JIT

/// Edge values: zero, one, all ones, the signed extremes at both widths, shift counts around
/// the widths, and values whose halves differ.
let edgeValues: [UInt64] = [
    0, 1, 2, .max, 0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff, 0x8000_0000, 0x7fff_ffff, 0xffff_ffff,
    0xffff_ffff_8000_0000, 0x1_0000_0000, 31, 32, 63, 64, 0x1234_5678_9abc_def0, 0xffff_ffff_ffff_fffe,
]
let edgeImmediates: [Int32] = [0, 1, -1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 65, -2, .min, .max, 0x7fff, 0x10000]

/// Register pairs (dst, src) that meet every special case of the code generator: r0 and r3
/// (rax and rdx, which division uses), r4 (rcx, the shift count), r10-based... and dst == src.
let registerPairs: [(Register, Register)] = [
    (.r0, .r1), (.r1, .r0), (.r3, .r4), (.r4, .r3), (.r0, .r3), (.r3, .r0), (.r4, .r4), (.r2, .r2), (.r6, .r9), (.r5, .r0),
]

/// One instruction form: an operation family at a width, with a register or an immediate source.
struct InstructionForm: CustomStringConvertible, Sendable {
    let name: String
    let check: @Sendable () throws -> Void
    var description: String { name }

    static let all: [InstructionForm] = alu + unary + branches + memory + atomics

    static let pairs = edgeValues.flatMap { a in edgeValues.map { (a, $0) } }

    static let alu: [InstructionForm] = ALUOperation.allCases.flatMap { op in
        OperandWidth.allCases.flatMap { width -> [InstructionForm] in
            [InstructionForm(name: "\(op)\(width == .bits64 ? "64" : "32") reg") {
                for (dst, src) in registerPairs {
                    let harness = try FormHarness(.alu(op, width, dst: dst, source: .register(src)),
                                                  setup: inputs(dst, src))
                    try harness.check(pairs, "\(op) r\(dst.rawValue), r\(src.rawValue)")
                }
            },
             InstructionForm(name: "\(op)\(width == .bits64 ? "64" : "32") imm") {
                for dst in [Register.r0, .r3, .r4] {
                    for imm in edgeImmediates {
                        let harness = try FormHarness(.alu(op, width, dst: dst, source: .immediate(imm)), setup: [dst: .input(0)])
                        try harness.check(edgeValues.map { ($0, 0) }, "\(op) r\(dst.rawValue), \(imm)")
                    }
                }
            }]
        }
    }

    static let unary: [InstructionForm] = OperandWidth.allCases.flatMap { width -> [InstructionForm] in
        let suffix = width == .bits64 ? "64" : "32"
        return [
            InstructionForm(name: "neg\(suffix)") {
                for dst in [Register.r0, .r3, .r7] {
                    try FormHarness(.negate(width, dst: dst), setup: [dst: .input(0)]).check(edgeValues.map { ($0, 0) }, "neg r\(dst.rawValue)")
                }
            },
            InstructionForm(name: "movsx\(suffix)") {
                for bits in width == .bits64 ? [8, 16, 32] : [8, 16] {
                    for (dst, src) in registerPairs {
                        try FormHarness(.moveSignExtend(width, dst: dst, src: src, bits: bits), setup: [src: .input(1)])
                            .check(edgeValues.map { (0, $0) }, "movsx\(bits) r\(dst.rawValue), r\(src.rawValue)")
                    }
                }
            },
        ]
    } + [
        InstructionForm(name: "byte swaps") {
            for kind in ByteSwap.allCases {
                for bits in [16, 32, 64] {
                    for dst in [Register.r0, .r1, .r6] {
                        try FormHarness(.byteSwap(kind, dst: dst, bits: bits), setup: [dst: .input(0)])
                            .check(edgeValues.map { ($0, 0) }, "\(kind) \(bits) r\(dst.rawValue)")
                    }
                }
            }
        },
        // What the code generator fuses: clang's widening of a 32-bit value (`<<= 32` then
        // `s>>= 32` or `>>= 32`), also after a 32-bit operation left the upper half clear.
        InstructionForm(name: "widening shift pairs") {
            for dst in [Register.r0, .r3, .r4, .r6] {
                for shift in [ALUOperation.arsh, .rsh] {
                    let pair: [Operation] = [.alu(.lsh, .bits64, dst: dst, source: .immediate(32)),
                                             .alu(shift, .bits64, dst: dst, source: .immediate(32))]
                    for prefix in [[], [Operation.alu(.add, .bits32, dst: dst, source: .immediate(1))]] {
                        try FormHarness(prefix + pair, setup: [dst: .input(0)])
                            .check(edgeValues.map { ($0, 0) }, "\(prefix.count) + lsh 32, \(shift) 32 r\(dst.rawValue)")
                    }
                }
            }
        },
        // clang's indexing, `rX = rY; rX += rZ or imm; rX = *(rX + off)`, fused into one load.
        InstructionForm(name: "indexed loads") {
            for size in MemorySize.allCases {
                for signExtend in size == .doubleWord ? [false] : [false, true] {
                    for (step, offset) in [(0, Int16(0)), (4, 8), (9, -4), (33, 3)] {
                        let load = Operation.load(size, dst: .r3, src: .r3, offset: offset, signExtend: signExtend)
                        let sequences: [[Operation]] = [
                            [.alu(.mov, .bits64, dst: .r7, source: .immediate(Int32(step))),
                             .alu(.mov, .bits64, dst: .r3, source: .register(.r6)),
                             .alu(.add, .bits64, dst: .r3, source: .register(.r7)), load],
                            [.alu(.mov, .bits64, dst: .r3, source: .register(.r6)),
                             .alu(.add, .bits64, dst: .r3, source: .immediate(Int32(step))), load],
                        ]
                        for sequence in sequences {
                            try FormHarness(sequence, setup: [.r6: .pointer(Int32(FormHarness.scratchOffset) + 64)])
                                .check([(0, 0)], "\(size) load at r6 + \(step) + \(offset), sign-extended: \(signExtend)")
                        }
                    }
                }
            }
        },
        InstructionForm(name: "lddw") {
            for value in edgeValues {
                try FormHarness(.loadImmediate64(.immediate, dst: .r7, value: value), setup: [:]).check([(0, 0)], "lddw 0x\(String(value, radix: 16))")
            }
        },
    ]

    static let branches: [InstructionForm] = JumpCondition.allCases.flatMap { condition in
        OperandWidth.allCases.flatMap { width -> [InstructionForm] in
            let name = "j\(condition)\(width == .bits64 ? "" : "32")"
            return [
                InstructionForm(name: "\(name) reg") {
                    for (dst, src) in registerPairs {
                        try FormHarness(.branch(condition, width, dst: dst, source: .register(src), offset: 0),
                                        setup: inputs(dst, src))
                            .check(pairs, "\(name) r\(dst.rawValue), r\(src.rawValue)")
                    }
                },
                InstructionForm(name: "\(name) imm") {
                    for imm in edgeImmediates {
                        try FormHarness(.branch(condition, width, dst: .r3, source: .immediate(imm), offset: 0), setup: [.r3: .input(0)])
                            .check(edgeValues.map { ($0, 0) }, "\(name) r3, \(imm)")
                    }
                },
            ]
        }
    }

    /// Offsets that make unaligned-looking addresses, and the disp8/disp32 boundary.
    static let offsets: [Int16] = [-129, -128, -3, 0, 1, 5, 127, 128]

    static let memory: [InstructionForm] = MemorySize.allCases.flatMap { size -> [InstructionForm] in
        [
            InstructionForm(name: "ldx \(size)") {
                for signExtend in size == .doubleWord ? [false] : [false, true] {
                    for (dst, src) in registerPairs where src != .r10 {
                        for offset in offsets {
                            try FormHarness(.load(size, dst: dst, src: src, offset: offset, signExtend: signExtend),
                                            setup: [src: .pointer(FormHarness.scratchOffset)])
                                .check([(0, 0)], "ldx\(signExtend ? "s" : "") r\(dst.rawValue), [r\(src.rawValue)\(offset)]")
                        }
                    }
                }
            },
            InstructionForm(name: "stx \(size)") {
                for (dst, src) in registerPairs where dst != src {
                    for offset in offsets {
                        try FormHarness(.store(size, dst: dst, src: src, offset: offset),
                                        setup: [dst: .pointer(FormHarness.scratchOffset), src: .input(0)])
                            .check(edgeValues.map { ($0, 0) }, "stx [r\(dst.rawValue)\(offset)], r\(src.rawValue)")
                    }
                }
            },
            InstructionForm(name: "st \(size)") {
                for imm in edgeImmediates {
                    try FormHarness(.storeImmediate(size, dst: .r7, offset: 3, value: imm), setup: [.r7: .pointer(FormHarness.scratchOffset)])
                        .check([(0, 0)], "st [r7+3], \(imm)")
                }
            },
        ]
    } + [
        InstructionForm(name: "stack loads and stores") {
            for size in MemorySize.allCases {
                // Below the harness's own slots at r10-24 ... r10-1.
                for offset: Int16 in [-512, -129, -40, -35] {
                    try FormHarness(.store(size, dst: .r10, src: .r3, offset: offset), setup: [.r3: .input(0)])
                        .check(edgeValues.map { ($0, 0) }, "stx [r10\(offset)], r3")
                }
            }
        },
    ]

    /// Every atomic at both sizes, with the address and operand in registers that meet rax
    /// (which `cmpxchg` and the fetch loops use) on either side; cmpxchg with r0 matching the
    /// memory and not.
    static let atomics: [InstructionForm] = AtomicOperation.allCases.flatMap { op in
        [MemorySize.word, .doubleWord].flatMap { size in
            (op.alwaysFetches ? [true] : [false, true]).map { fetch in
                InstructionForm(name: "atomic \(op)\(fetch && !op.alwaysFetches ? " fetch" : "") \(size)") {
                    let pairs: [(Register, Register)] = [(.r1, .r2), (.r0, .r2), (.r2, .r0), (.r3, .r4), (.r6, .r9)]
                    for (dst, src) in pairs {
                        for matching in [false, true] where op == .cmpxchg || !matching {
                            var setup: [Register: FormHarness.Setup] = [dst: .pointer(FormHarness.scratchOffset), src: .input(0)]
                            if op == .cmpxchg && dst != .r0 && src != .r0 {
                                setup[.r0] = matching ? .contents(Int16(FormHarness.scratchOffset) + 8) : .input(1)
                            }
                            try FormHarness(.atomic(op, fetch: fetch, size, dst: dst, src: src, offset: 8), setup: setup)
                                .check(edgeValues.prefix(6).map { ($0, $0 &+ 3) }, "\(op) [r\(dst.rawValue)+8], r\(src.rawValue)")
                        }
                    }
                }
            }
        }
    }

}

/// dst holds input 0 and src input 1 (both input 0 when they are the same register).
func inputs(_ dst: Register, _ src: Register) -> [Register: FormHarness.Setup] {
    dst == src ? [dst: .input(0)] : [dst: .input(0), src: .input(1)]
}

@Suite("JIT-compiled instruction forms against the interpreter")
struct InstructionFormTests {
    @Test("every form, with edge values, gives the interpreter's registers, memory and branches", arguments: InstructionForm.all)
    func form(_ form: InstructionForm) throws {
        try form.check()
    }
}
