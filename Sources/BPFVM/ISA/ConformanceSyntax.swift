/// Prints operations in the bpf_conformance syntax; the output re-assembles to the same slots.
///
/// Jumps and local calls are printed as relative distances (`+N` / `-N`, counted from the next
/// instruction), memory operands as `[%rN]`, `[%rN+off]` or `[%rN-off]`, immediates in decimal
/// (in hex for the bitwise operations and `lddw`). `lddw` with a pseudo kind prints the kind
/// before its value (`lddw %r1, map_fd 0x3`), an extension `Assembler` understands.
public enum ConformanceSyntax {
    /// The text of one operation, without a trailing newline (e.g. `jne %r1, 0, +3`).
    public static func text(of operation: Operation) -> String {
        switch operation {
        case let .alu(op, width, dst, source):
            let name = op.conformanceName + width.conformanceSuffix
            return "\(name) \(reg(dst)), \(operand(source, hex: op.prefersHexImmediate))"
        case let .negate(width, dst):
            return "neg\(width.conformanceSuffix) \(reg(dst))"
        case let .moveSignExtend(width, dst, src, bits):
            return "movsx\(bits)\(width == .bits64 ? "64" : "32") \(reg(dst)), \(reg(src))"
        case let .byteSwap(kind, dst, bits):
            let name = switch kind {
            case .toLittleEndian: "le"
            case .toBigEndian: "be"
            case .unconditional: "bswap"
            }
            return "\(name)\(bits) \(reg(dst))"
        case let .loadImmediate64(kind, dst, value):
            guard let kindName = kind.conformanceName else { return "lddw \(reg(dst)), \(hex64(value))" }
            if kind == .codeAddress && value >> 32 == 0 {
                return "lddw \(reg(dst)), \(kindName) \(distance(Int(Int32(truncatingIfNeeded: value))))"
            }
            return "lddw \(reg(dst)), \(kindName) \(hex64(value))"
        case let .load(size, dst, src, offset, signExtend):
            return "ldx\(signExtend ? "s" : "")\(size.conformanceSuffix) \(reg(dst)), \(memory(src, offset))"
        case let .storeImmediate(size, dst, offset, value):
            return "st\(size.conformanceSuffix) \(memory(dst, offset)), \(value)"
        case let .store(size, dst, src, offset):
            return "stx\(size.conformanceSuffix) \(memory(dst, offset)), \(reg(src))"
        case let .atomic(op, fetch, size, dst, src, offset):
            let fetchWord = fetch && !op.alwaysFetches ? "fetch " : ""
            let suffix = size == .word ? "32" : ""
            return "lock \(fetchWord)\(op.conformanceName)\(suffix) \(memory(dst, offset)), \(reg(src))"
        case let .jump(offset):
            return "ja \(distance(Int(offset)))"
        case let .jumpLong(offset):
            return "ja32 \(distance(Int(offset)))"
        case let .branch(condition, width, dst, source, offset):
            let name = condition.conformanceName + width.conformanceSuffix
            let hex = condition == .set
            return "\(name) \(reg(dst)), \(operand(source, hex: hex)), \(distance(Int(offset)))"
        case let .call(target):
            switch target {
            case .helper(let id): return "call \(id)"
            case .local(let offset): return "call local \(distance(Int(offset)))"
            case .kfunc(let id): return "call runtime \(id)"
            case .register(let register): return "call \(reg(register))"
            }
        case .exit:
            return "exit"
        }
    }

    /// The whole program, one instruction per line (each line ends with a newline).
    public static func listing(of program: Program) -> String {
        var result = ""
        for (_, operation) in program.operations {
            result += text(of: operation)
            result += "\n"
        }
        return result
    }

    private static func reg(_ register: Register) -> String { "%r\(register.rawValue)" }

    private static func operand(_ operand: Operand, hex: Bool) -> String {
        switch operand {
        case .register(let register): reg(register)
        case .immediate(let value): hex ? "0x" + String(UInt32(bitPattern: value), radix: 16) : "\(value)"
        }
    }

    private static func memory(_ base: Register, _ offset: Int16) -> String {
        if offset == 0 { return "[\(reg(base))]" }
        return offset < 0 ? "[\(reg(base))\(offset)]" : "[\(reg(base))+\(offset)]"
    }

    private static func distance(_ value: Int) -> String { value < 0 ? "\(value)" : "+\(value)" }

    private static func hex64(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}

// MARK: - Names shared by the assembler and the printer

extension ALUOperation {
    /// The mnemonic stem in the conformance syntax (`add`, `sdiv`, ...), before any width suffix.
    var conformanceName: String {
        switch self {
        case .add: "add"
        case .sub: "sub"
        case .mul: "mul"
        case .div: "div"
        case .sdiv: "sdiv"
        case .or: "or"
        case .and: "and"
        case .lsh: "lsh"
        case .rsh: "rsh"
        case .mod: "mod"
        case .smod: "smod"
        case .xor: "xor"
        case .mov: "mov"
        case .arsh: "arsh"
        }
    }

    /// Bit masks read better in hex.
    var prefersHexImmediate: Bool { self == .and || self == .or || self == .xor }
}

extension OperandWidth {
    /// `""` for 64-bit operations (the default), `"32"` for 32-bit ones.
    var conformanceSuffix: String { self == .bits64 ? "" : "32" }
}

extension JumpCondition {
    /// The branch mnemonic (`jeq`, `jsgt`, ...), before any width suffix.
    var conformanceName: String {
        switch self {
        case .eq: "jeq"
        case .gt: "jgt"
        case .ge: "jge"
        case .set: "jset"
        case .ne: "jne"
        case .sgt: "jsgt"
        case .sge: "jsge"
        case .lt: "jlt"
        case .le: "jle"
        case .slt: "jslt"
        case .sle: "jsle"
        }
    }
}

extension MemorySize {
    /// The size suffix of loads and stores: `b`, `h`, `w`, `dw`.
    var conformanceSuffix: String {
        switch self {
        case .byte: "b"
        case .half: "h"
        case .word: "w"
        case .doubleWord: "dw"
        }
    }
}

extension AtomicOperation {
    /// The operation word after `lock` (and `fetch`), before any width suffix.
    var conformanceName: String {
        switch self {
        case .add: "add"
        case .or: "or"
        case .and: "and"
        case .xor: "xor"
        case .xchg: "xchg"
        case .cmpxchg: "cmpxchg"
        }
    }
}

extension LoadImmediateKind {
    /// The pseudo-kind word of `lddw %rD, KIND value` (an extension of the conformance syntax), or
    /// nil for a plain immediate.
    var conformanceName: String? {
        switch self {
        case .immediate: nil
        case .mapByFD: "map_fd"
        case .mapValueByFD: "map_value"
        case .variableByBTFID: "btf_id"
        case .codeAddress: "func"
        case .mapByIndex: "map_idx"
        case .mapValueByIndex: "map_idx_value"
        }
    }
}
