/// A 64-bit general-purpose register of x86-64, numbered as the instruction encoding numbers
/// it (0-7 in ModRM/SIB/opcode fields; 8-15 need a REX or VEX extension bit).
package enum X86Register: UInt8, CaseIterable, Hashable, Sendable {
    case rax = 0, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15

    /// The low three bits of the register number, as encoded in ModRM, SIB and opcodes.
    @inline(__always) var low3: UInt8 { rawValue & 7 }
    /// Whether the register needs a REX (or VEX) extension bit (r8-r15).
    @inline(__always) var isExtended: Bool { rawValue >= 8 }
    /// Whether, as a byte register, it needs a REX prefix to mean `spl`/`bpl`/`sil`/`dil`
    /// rather than `ah`/`ch`/`dh`/`bh`.
    @inline(__always) var needsREXAsByte: Bool { rawValue >= 4 && rawValue <= 7 }

    /// The register's name at `size` in Intel syntax (`rax`, `eax`, `ax`, `al`; `r8`, `r8d`, ...).
    package func name(_ size: OperandSize) -> String {
        let legacy = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]
        if isExtended {
            let base = "r\(rawValue)"
            return switch size {
            case .qword: base
            case .dword: base + "d"
            case .word: base + "w"
            case .byte: base + "b"
            }
        }
        let stem = legacy[Int(rawValue)]
        switch size {
        case .qword: return "r" + stem
        case .dword: return "e" + stem
        case .word: return stem
        case .byte:
            return rawValue < 4 ? String(stem.first!) + "l" : stem + "l"
        }
    }
}

/// The width of an x86 operand.
package enum OperandSize: Int, CaseIterable, Hashable, Sendable {
    case byte = 1, word = 2, dword = 4, qword = 8

    /// The `ptr` keyword of Intel syntax (`byte ptr`, ...).
    package var pointerName: String {
        switch self {
        case .byte: "byte ptr"
        case .word: "word ptr"
        case .dword: "dword ptr"
        case .qword: "qword ptr"
        }
    }
}
