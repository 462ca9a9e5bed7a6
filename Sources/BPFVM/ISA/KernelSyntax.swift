/// Instructions as the kernel's disassembler (`kernel/bpf/disasm.c`) prints them in verifier
/// logs and `bpftool prog dump xlated`: `(61) r2 = *(u32 *)(r1 +0)`, `if w3 > w1 goto pc+1`,
/// `call bpf_map_lookup_elem#1`.
public enum KernelSyntax {
    /// The text after the index: the opcode byte in parentheses, then the instruction.
    /// `helperName` names helper ids (nil: `unknown`).
    public static func text(of operation: Operation, helperName: (Int32) -> String? = { _ in nil }) -> String {
        let opcode = operation.encoded[0].opcode
        return "(" + hex2(opcode) + ") " + body(of: operation, helperName: helperName)
    }

    private static func hex2(_ value: UInt8) -> String {
        let digits = String(value, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    private static func reg(_ register: Register, _ width: OperandWidth) -> String {
        (width == .bits32 ? "w" : "r") + String(register.rawValue)
    }

    private static func size(_ size: MemorySize) -> String { "u\(size.byteCount * 8)" }

    private static func offset(_ value: Int16) -> String { value < 0 ? "\(value)" : "+\(value)" }

    private static func aluOperator(_ op: ALUOperation) -> String {
        switch op {
        case .add: "+="
        case .sub: "-="
        case .mul: "*="
        case .div: "/="
        case .sdiv: "s/="
        case .or: "|="
        case .and: "&="
        case .lsh: "<<="
        case .rsh: ">>="
        case .mod: "%="
        case .smod: "s%="
        case .xor: "^="
        case .mov: "="
        case .arsh: "s>>="
        }
    }

    private static func condition(_ condition: JumpCondition) -> String {
        switch condition {
        case .eq: "=="
        case .gt: ">"
        case .ge: ">="
        case .set: "&"
        case .ne: "!="
        case .sgt: "s>"
        case .sge: "s>="
        case .lt: "<"
        case .le: "<="
        case .slt: "s<"
        case .sle: "s<="
        }
    }

    private static func atomicName(_ op: AtomicOperation) -> String {
        switch op {
        case .add: "add"
        case .or: "or"
        case .and: "and"
        case .xor: "xor"
        case .xchg: "xchg"
        case .cmpxchg: "cmpxchg"
        }
    }

    private static func body(of operation: Operation, helperName: (Int32) -> String?) -> String {
        switch operation {
        case let .alu(op, width, dst, source):
            let operand = switch source {
            case .register(let src): reg(src, width)
            case .immediate(let imm): String(imm)
            }
            return "\(reg(dst, width)) \(aluOperator(op)) \(operand)"
        case let .negate(width, dst):
            return "\(reg(dst, width)) = -\(reg(dst, width))"
        case let .moveSignExtend(width, dst, src, bits):
            return "\(reg(dst, width)) = (s\(bits))\(reg(src, width))"
        case let .byteSwap(kind, dst, bits):
            let name = switch kind {
            case .toLittleEndian: "le"
            case .toBigEndian: "be"
            case .unconditional: "bswap"
            }
            return "\(reg(dst, .bits64)) = \(name)\(bits) \(reg(dst, .bits64))"
        case let .loadImmediate64(kind, dst, value):
            switch kind {
            case .mapByIndex: return "\(reg(dst, .bits64)) = map[idx:\(UInt32(truncatingIfNeeded: value))]"
            case .mapValueByIndex:
                return "\(reg(dst, .bits64)) = map[idx:\(UInt32(truncatingIfNeeded: value))]+\(value >> 32)"
            case .codeAddress: return "\(reg(dst, .bits64)) = subprog[\(Int32(truncatingIfNeeded: value) >= 0 ? "+" : "")\(Int32(truncatingIfNeeded: value))]"
            default: return "\(reg(dst, .bits64)) = 0x\(String(value, radix: 16))"
            }
        case let .load(memorySize, dst, src, off, signExtend):
            let type = (signExtend ? "s" : "u") + String(memorySize.byteCount * 8)
            return "\(reg(dst, .bits64)) = *(\(type) *)(\(reg(src, .bits64)) \(offset(off)))"
        case let .storeImmediate(memorySize, dst, off, value):
            return "*(\(size(memorySize)) *)(\(reg(dst, .bits64)) \(offset(off))) = \(value)"
        case let .store(memorySize, dst, src, off):
            return "*(\(size(memorySize)) *)(\(reg(dst, .bits64)) \(offset(off))) = \(reg(src, .bits64))"
        case let .atomic(op, fetch, memorySize, dst, src, off):
            let address = "(\(size(memorySize)) *)(\(reg(dst, .bits64)) \(offset(off)))"
            let width = memorySize == .doubleWord ? "64" : ""
            switch op {
            case .cmpxchg:
                return "r0 = atomic\(width)_cmpxchg(\(address), r0, \(reg(src, .bits64)))"
            case .xchg:
                return "\(reg(src, .bits64)) = atomic\(width)_xchg(\(address), \(reg(src, .bits64)))"
            default:
                if fetch {
                    return "\(reg(src, .bits64)) = atomic\(width)_fetch_\(atomicName(op))(\(address), \(reg(src, .bits64)))"
                }
                let symbol = switch op {
                case .add: "+="
                case .or: "|="
                case .and: "&="
                default: "^="
                }
                return "lock *\(address) \(symbol) \(reg(src, .bits64))"
            }
        case let .jump(off):
            return "goto pc\(offset(off))"
        case let .jumpLong(off):
            return "gotol pc\(off < 0 ? "\(off)" : "+\(off)")"
        case let .branch(cond, width, dst, source, off):
            let operand = switch source {
            case .register(let src): reg(src, width)
            case .immediate(let imm): "0x" + String(UInt32(bitPattern: imm), radix: 16)
            }
            return "if \(reg(dst, width)) \(condition(cond)) \(operand) goto pc\(offset(off))"
        case let .call(target):
            switch target {
            case .helper(let id): return "call \(helperName(id).map { "bpf_" + $0 } ?? "unknown")#\(id)"
            case .local(let off): return "call pc\(off < 0 ? "\(off)" : "+\(off)")"
            case .kfunc(let id): return "call kernel-function#\(id)"
            case .register(let register): return "callx \(reg(register, .bits64))"
            }
        case .exit:
            return "exit"
        }
    }
}
