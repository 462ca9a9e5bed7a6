import Testing
@testable import JIT

/// One instruction form and its instances: the Intel-syntax text llvm-mc reads and the
/// assembler call that must produce the same bytes.
struct EncodingForm: CustomStringConvertible, Sendable {
    let name: String
    let instances: @Sendable () -> [Instance]
    var description: String { name }
}

typealias Instance = (text: String, emit: @Sendable (inout X86Assembler) -> Void)

private let registers = X86Register.allCases
/// Registers chosen to cover every encoding corner (rax accumulator forms, rsp/r12 SIB, rbp/r13
/// displacement, sil/dil byte REX, r8-r15 extension bits).
private let sample: [X86Register] = [.rax, .rcx, .rbx, .rsp, .rbp, .rsi, .rdi, .r8, .r12, .r13, .r15]
private let memories: [MemoryOperand] = [
    MemoryOperand(.rax), MemoryOperand(.rbp, -8), MemoryOperand(.rsp, 16), MemoryOperand(.r12),
    MemoryOperand(.r13), MemoryOperand(.rbp), MemoryOperand(.rdi, 300), MemoryOperand(.r11, -129),
    MemoryOperand(.rcx, 127), MemoryOperand(.rdx, -128), MemoryOperand(.r9, Int32.min), MemoryOperand(.rsi, Int32.max),
    MemoryOperand(.rax, index: .rcx, scale: 4, 16), MemoryOperand(.r12, index: .r13, scale: 8, -4),
    MemoryOperand(.rbp, index: .r12, scale: 1), MemoryOperand(.r13, index: .rax, scale: 2, 1000),
]
private let immediates: [Int32] = [0, 1, -1, 2, 127, -128, 128, -129, 1000, -70000, .min, .max]
private let wide: [OperandSize] = [.dword, .qword]


extension EncodingForm {
    static let all: [EncodingForm] = [
        EncodingForm(name: "mov r, r", instances: movRegisterRegister),
        EncodingForm(name: "mov r, [m] and mov [m], r", instances: movMemory),
        EncodingForm(name: "mov [m], imm", instances: movMemoryImmediate),
        EncodingForm(name: "mov r32, imm32 / mov r64, simm32 / movabs", instances: movImmediate),
        EncodingForm(name: "movzx, movsx, movsxd", instances: extensions),
        EncodingForm(name: "lea r, [m], cmovcc", instances: leaAndCmov),
        EncodingForm(name: "op r, r", instances: aluRegisterRegister),
        EncodingForm(name: "op r, imm", instances: aluRegisterImmediate),
        EncodingForm(name: "[lock] op [m], r and op [m], imm", instances: aluMemory),
        EncodingForm(name: "test, imul", instances: testAndMultiply),
        EncodingForm(name: "neg, div, idiv, cdq, cqo", instances: unary),
        EncodingForm(name: "shift r, imm / shift r, cl / shlx, shrx, sarx", instances: shifts),
        EncodingForm(name: "bswap, movbe", instances: byteSwaps),
        EncodingForm(name: "xchg, lock xadd, lock cmpxchg", instances: atomics),
        EncodingForm(name: "push, pop, call r, jmp r, ret, int3, leave", instances: control),
    ]

    @Sendable static func movRegisterRegister() -> [Instance] {
        var result: [Instance] = []
        for size in OperandSize.allCases {
            for dst in registers {
                for src in registers {
                    result.append(("mov \(dst.name(size)), \(src.name(size))", { $0.mov(size, dst, src) }))
                }
            }
        }
        return result
    }

    @Sendable static func movMemory() -> [Instance] {
        var result: [Instance] = []
        for size in OperandSize.allCases {
            for register in sample {
                for memory in memories {
                    let m = "\(size.pointerName) \(memory.text)"
                    result.append(("mov \(register.name(size)), \(m)", { $0.mov(size, register, memory) }))
                    result.append(("mov \(m), \(register.name(size))", { $0.mov(size, memory, register) }))
                }
            }
        }
        return result
    }

    @Sendable static func movMemoryImmediate() -> [Instance] {
        var result: [Instance] = []
        for size in OperandSize.allCases {
            for memory in memories {
                for value in immediates {
                    let text: Int64 = switch size {
                    case .byte: Int64(Int8(truncatingIfNeeded: value))
                    case .word: Int64(Int16(truncatingIfNeeded: value))
                    default: Int64(value)
                    }
                    result.append(("mov \(size.pointerName) \(memory.text), \(text)", { $0.mov(size, memory, immediate: value) }))
                }
            }
        }
        return result
    }

    @Sendable static func movImmediate() -> [Instance] {
        var result: [Instance] = []
        for register in registers {
            for value in immediates {
                let unsigned = UInt32(bitPattern: value)
                let wide = UInt64(bitPattern: Int64(value)) &* 0x1_0000_0001
                result.append(("mov \(register.name(.dword)), \(unsigned)", { $0.mov(register, zeroExtending: unsigned) }))
                result.append(("mov \(register.name(.qword)), \(value)", { $0.mov(register, signExtending: value) }))
                result.append(("movabs \(register.name(.qword)), \(wide)", { $0.movabs(register, wide) }))
            }
        }
        return result
    }

    @Sendable static func extensions() -> [Instance] {
        let forms: [(OperandSize, OperandSize, String)] = [
            (.dword, .byte, "movzx"), (.dword, .word, "movzx"), (.dword, .byte, "movsx"), (.dword, .word, "movsx"),
            (.qword, .byte, "movsx"), (.qword, .word, "movsx"), (.qword, .dword, "movsxd"),
        ]
        var result: [Instance] = []
        for (size, source, mnemonic) in forms {
            let emit: @Sendable (inout X86Assembler, X86Register, X86Assembler.Operand) -> Void = { assembler, dst, src in
                if mnemonic == "movzx" { assembler.movzx(dst, source, src) } else { assembler.movsx(size, dst, source, src) }
            }
            for dst in sample {
                for src in sample {
                    result.append(("\(mnemonic) \(dst.name(size)), \(src.name(source))", { emit(&$0, dst, .register(src)) }))
                }
                for memory in memories {
                    result.append(("\(mnemonic) \(dst.name(size)), \(source.pointerName) \(memory.text)",
                                   { emit(&$0, dst, .memory(memory)) }))
                }
            }
        }
        return result
    }

    @Sendable static func leaAndCmov() -> [Instance] {
        var result: [Instance] = []
        for register in sample {
            for memory in memories {
                result.append(("lea \(register.name(.qword)), \(memory.text)", { $0.lea(register, memory) }))
            }
        }
        for condition in ConditionCode.allCases {
            for size in wide {
                for dst in sample {
                    for src in sample {
                        result.append(("cmov\(condition.suffix) \(dst.name(size)), \(src.name(size))",
                                       { $0.cmov(condition, size, dst, src) }))
                    }
                }
            }
        }
        return result
    }

    @Sendable static func aluRegisterRegister() -> [Instance] {
        var result: [Instance] = []
        for operation in X86Assembler.ArithmeticOperation.allCases {
            for size in wide {
                for dst in registers {
                    for src in registers {
                        result.append(("\(operation) \(dst.name(size)), \(src.name(size))", { $0.alu(operation, size, dst, src) }))
                    }
                }
            }
        }
        return result
    }

    @Sendable static func aluRegisterImmediate() -> [Instance] {
        var result: [Instance] = []
        for operation in X86Assembler.ArithmeticOperation.allCases {
            for size in wide {
                for dst in sample {
                    for value in immediates {
                        result.append(("\(operation) \(dst.name(size)), \(immediateText(value, size))",
                                       { $0.alu(operation, size, dst, immediate: value) }))
                    }
                }
            }
        }
        return result
    }

    @Sendable static func aluMemory() -> [Instance] {
        var result: [Instance] = []
        for operation in X86Assembler.ArithmeticOperation.allCases {
            for size in wide {
                for memory in memories {
                    let m = "\(size.pointerName) \(memory.text)"
                    for register in sample {
                        result.append(("\(operation) \(m), \(register.name(size))", { $0.alu(operation, size, memory, register) }))
                        if operation != .cmp {
                            result.append(("lock \(operation) \(m), \(register.name(size))",
                                           { $0.alu(operation, size, memory, register, lock: true) }))
                        }
                    }
                    for value in immediates {
                        result.append(("\(operation) \(m), \(immediateText(value, size))",
                                       { $0.alu(operation, size, memory, immediate: value) }))
                    }
                }
            }
        }
        return result
    }

    @Sendable static func testAndMultiply() -> [Instance] {
        var result: [Instance] = []
        for size in wide {
            for a in sample {
                for b in sample {
                    result.append(("test \(a.name(size)), \(b.name(size))", { $0.test(size, a, b) }))
                    result.append(("imul \(a.name(size)), \(b.name(size))", { $0.imul(size, a, b) }))
                    for value in immediates {
                        result.append(("imul \(a.name(size)), \(b.name(size)), \(value)", { $0.imul(size, a, b, immediate: value) }))
                    }
                }
                for value in immediates {
                    result.append(("test \(a.name(size)), \(immediateText(value, size))", { $0.test(size, a, immediate: value) }))
                }
            }
        }
        return result
    }

    @Sendable static func unary() -> [Instance] {
        var result: [Instance] = [("cdq", { $0.signExtendAccumulator(.dword) }), ("cqo", { $0.signExtendAccumulator(.qword) })]
        for size in wide {
            for register in registers {
                result.append(("neg \(register.name(size))", { $0.neg(size, register) }))
                result.append(("div \(register.name(size))", { $0.div(size, register) }))
                result.append(("idiv \(register.name(size))", { $0.idiv(size, register) }))
            }
        }
        return result
    }

    @Sendable static func shifts() -> [Instance] {
        var result: [Instance] = []
        for operation in X86Assembler.ShiftOperation.allCases {
            for size in [OperandSize.word, .dword, .qword] {
                for register in sample {
                    for count: UInt8 in [1, 2, 8, 31, 63] {
                        result.append(("\(operation) \(register.name(size)), \(count)",
                                       { $0.shift(operation, size, register, immediate: count) }))
                    }
                    if size != .word {
                        result.append(("\(operation) \(register.name(size)), cl", { $0.shiftByCL(operation, size, register) }))
                    }
                }
            }
        }
        for operation in X86Assembler.BMI2Shift.allCases {
            for size in wide {
                for dst in sample {
                    for src in sample {
                        for count in sample {
                            result.append(("\(operation) \(dst.name(size)), \(src.name(size)), \(count.name(size))",
                                           { $0.shift(operation, size, dst, src, count: count) }))
                        }
                    }
                }
            }
        }
        return result
    }

    @Sendable static func byteSwaps() -> [Instance] {
        var result: [Instance] = []
        for size in wide {
            for register in registers {
                result.append(("bswap \(register.name(size))", { $0.bswap(size, register) }))
            }
        }
        for size in [OperandSize.word, .dword, .qword] {
            for register in sample {
                for memory in memories {
                    let m = "\(size.pointerName) \(memory.text)"
                    result.append(("movbe \(register.name(size)), \(m)", { $0.movbe(size, register, memory) }))
                    result.append(("movbe \(m), \(register.name(size))", { $0.movbe(size, memory, register) }))
                }
            }
        }
        return result
    }

    @Sendable static func atomics() -> [Instance] {
        var result: [Instance] = []
        for size in wide {
            for register in sample {
                for memory in memories {
                    let m = "\(size.pointerName) \(memory.text)", r = register.name(size)
                    result.append(("xchg \(m), \(r)", { $0.xchg(size, memory, register) }))
                    result.append(("lock xadd \(m), \(r)", { $0.lockXadd(size, memory, register) }))
                    result.append(("lock cmpxchg \(m), \(r)", { $0.lockCmpxchg(size, memory, register) }))
                }
            }
        }
        return result
    }

    @Sendable static func control() -> [Instance] {
        var result: [Instance] = [("ret", { $0.ret() }), ("int3", { $0.int3() }), ("leave", { $0.leave() })]
        for register in registers {
            let name = register.name(.qword)
            result.append(("push \(name)", { $0.push(register) }))
            result.append(("pop \(name)", { $0.pop(register) }))
            result.append(("call \(name)", { $0.call(register) }))
            result.append(("jmp \(name)", { $0.jmp(register) }))
        }
        return result
    }

    /// An immediate as llvm-mc reads it at `size` (a dword operand takes the unsigned value).
    static func immediateText(_ value: Int32, _ size: OperandSize) -> String {
        size == .dword ? "\(UInt32(bitPattern: value))" : "\(value)"
    }
}

@Suite("x86-64 encodings against llvm-mc", .enabled(if: LLVMMC.path != nil, "\(LLVMMC.missing)"))
struct X86EncodingTests {
    @Test("every instance of a form encodes as llvm-mc encodes it", arguments: EncodingForm.all)
    func form(_ form: EncodingForm) throws {
        let instances = form.instances()
        let expected = try LLVMMC.encodings(instances.map(\.text))
        for (instance, bytes) in zip(instances, expected) {
            var assembler = X86Assembler()
            instance.emit(&assembler)
            let actual = try assembler.assembled()
            #expect(actual == bytes, "\(instance.text): \(hex(actual)) != llvm-mc \(hex(bytes))")
        }
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        .joined(separator: " ")
}
