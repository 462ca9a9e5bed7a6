/// A memory operand `[base + index * scale + displacement]` of x86-64 (no segment, no
/// absolute address: the JIT addresses memory through registers, and code through labels).
package struct MemoryOperand: Hashable, Sendable {
    package var base: X86Register
    package var index: X86Register?
    /// 1, 2, 4 or 8.
    package var scale: UInt8
    package var displacement: Int32

    /// `[base + displacement]`.
    package init(_ base: X86Register, _ displacement: Int32 = 0) {
        self.base = base
        self.index = nil
        self.scale = 1
        self.displacement = displacement
    }

    /// `[base + index * scale + displacement]`; `index` cannot be `rsp`.
    package init(_ base: X86Register, index: X86Register, scale: UInt8, _ displacement: Int32 = 0) {
        precondition(index != .rsp, "rsp cannot be an index register")
        precondition([1, 2, 4, 8].contains(scale), "scale must be 1, 2, 4 or 8")
        self.base = base
        self.index = index
        self.scale = scale
        self.displacement = displacement
    }

    /// The operand in Intel syntax, as llvm-mc reads it (`[rbp - 8]`, `[rax + 4*rcx + 16]`).
    package var text: String {
        var text = "[" + base.name(.qword)
        if let index { text += " + \(scale)*" + index.name(.qword) }
        if displacement > 0 { text += " + \(displacement)" }
        if displacement < 0 { text += " - \(-Int64(displacement))" }
        return text + "]"
    }
}

/// The condition of a conditional jump or move, numbered as the `tttn` field of its encoding.
package enum ConditionCode: UInt8, CaseIterable, Hashable, Sendable {
    case overflow = 0, notOverflow, below, aboveOrEqual, equal, notEqual, belowOrEqual, above
    case sign, notSign, parity, notParity, less, greaterOrEqual, lessOrEqual, greater

    /// The condition that holds exactly when this one does not.
    package var negated: ConditionCode { ConditionCode(rawValue: rawValue ^ 1)! }

    /// The mnemonic suffix (`e` in `je`, `ae` in `jae`).
    package var suffix: String {
        ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"][Int(rawValue)]
    }
}
