/// Formats decoded instructions the way llvm-objdump prints BPF code (LLVM 21).
///
/// The text matches `llvm-objdump -d` of LLVM 21 character for character: immediates in hex with a sign
/// (`-0x1`), `w` registers for 32-bit ALU, JMP32, narrow loads and stores and 32-bit atomics, `<unknown>`
/// where LLVM has no syntax for an encoding, and `ld_pseudo` for `lddw` with a non-zero `src`.
public enum LLVMSyntax {
    /// The text of one instruction, e.g. `r0 = *(u64 *)(r1 + 0x8)`, `w1 = w2`, `if r1 > 0x3 goto +0x2`, `call 0x1`,
    /// `r1 = 0x1122334455667788 ll`. Jumps print their relative offset; when `symbol` is given
    /// (name and the slot index where the symbol starts), the target is annotated ` <name+0xNN>` as objdump does
    /// (byte offset of the target from the symbol start).
    public static func text(of operation: Operation, at index: Int, symbol: (name: String, start: Int)? = nil) -> String {
        switch operation {
        case let .alu(op, width, dst, source):
            let d = register(dst, width)
            let s: String = switch source {
            case .register(let src): register(src, width)
            case .immediate(let imm): immediate(Int64(imm))
            }
            return "\(d) \(operatorText(op)) \(s)"

        case let .negate(width, dst):
            let d = register(dst, width)
            return "\(d) = -\(d)"

        case let .moveSignExtend(width, dst, src, bits):
            switch (width, bits) {
            case (_, 0): return "\(register(dst, width)) = \(register(src, width))"  // offset 0 is a plain mov
            case (.bits64, 1): return "\(dst) = addr_space_cast(\(src), 0x0, 0x0)"  // LLVM's arena extension
            case (_, 8), (_, 16), (.bits64, 32):
                return "\(register(dst, width)) = (s\(bits))\(register(src, width))"
            default: return unknown
            }

        case let .byteSwap(kind, dst, bits):
            guard bits == 16 || bits == 32 || bits == 64 else { return unknown }
            let name = switch kind {
            case .toLittleEndian: "le"
            case .toBigEndian: "be"
            case .unconditional: "bswap"
            }
            // LLVM names the 64-bit register even for the ALU-class `le`/`be` forms.
            return "\(dst) = \(name)\(bits) \(dst)"

        case let .loadImmediate64(kind, dst, value):
            if kind == .immediate { return "\(dst) = \(immediate(Int64(bitPattern: value))) ll" }
            // LLVM 21 prints the pseudo source and only the first slot's immediate, zero-extended.
            let low = Int64(UInt32(truncatingIfNeeded: value))
            return "ld_pseudo\t\(dst), \(immediate(Int64(kind.rawValue))), \(immediate(low))"

        case let .load(size, dst, src, offset, signExtend):
            if signExtend {
                guard size != .doubleWord else { return unknown }
                return "\(dst) = *(s\(size.byteCount * 8) *)\(address(src, offset))"
            }
            return "\(register(dst, size)) = *(\(type(size)) *)\(address(src, offset))"

        case let .storeImmediate(size, dst, offset, value):
            return "*(\(type(size)) *)\(address(dst, offset)) = \(immediate(Int64(value)))"

        case let .store(size, dst, src, offset):
            return "*(\(type(size)) *)\(address(dst, offset)) = \(register(src, size))"

        case let .atomic(op, fetch, size, dst, src, offset):
            return atomicText(op, fetch: fetch, size, dst: dst, src: src, offset: offset)

        case .jump(let offset):
            return "goto \(jumpOffset(Int64(offset)))\(annotation(index, Int64(offset), symbol))"

        case .jumpLong(let offset):
            return "gotol \(jumpOffset(Int64(offset)))\(annotation(index, Int64(offset), symbol))"

        case let .branch(condition, width, dst, source, offset):
            let s: String = switch source {
            case .register(let src): register(src, width)
            case .immediate(let imm): immediate(Int64(imm))
            }
            return "if \(register(dst, width)) \(operatorText(condition)) \(s) goto \(jumpOffset(Int64(offset)))"
                + annotation(index, Int64(offset), symbol)

        case .call(let target):
            // objdump prints the raw immediate for helpers, local calls and kfuncs alike, without a target annotation.
            switch target {
            case .helper(let imm), .local(let imm), .kfunc(let imm): return "call \(immediate(Int64(imm)))"
            case .register(let reg): return "callx \(reg)"
            }

        case .exit:
            return "exit"
        }
    }

    /// An objdump-style listing of a whole program: per instruction `%8u:\t<bytes as "xx xx ..">\t<text>` (lddw: 16 bytes
    /// on one line, as objdump prints it), with an option to omit the raw bytes (`--no-show-raw-insn` layout).
    /// A `symbol` adds objdump's `0000000000000000 <symbol>:` first line and annotates jump targets relative to it;
    /// every line ends with a newline.
    public static func listing(of program: Program, symbol: String? = nil, showBytes: Bool = true) -> String {
        var result = ""
        if let symbol { result += "0000000000000000 <\(symbol)>:\n" }
        let annotationSymbol = symbol.map { (name: $0, start: 0) }
        for (index, operation) in program.operations {
            let number = String(index)
            result += String(repeating: " ", count: max(0, 8 - number.count)) + number + ":\t"
            if showBytes {
                var bytes: [UInt8] = []
                for slot in index..<(index + operation.slotCount) { bytes += program.instructions[slot].bytes }
                result += bytes.map { hexDigits(UInt64($0), width: 2) }.joined(separator: " ") + "\t"
            }
            result += text(of: operation, at: index, symbol: annotationSymbol) + "\n"
        }
        return result
    }

    // MARK: - Pieces

    private static let unknown = "<unknown>"

    /// `rN` for 64-bit operands, `wN` for 32-bit ones.
    private static func register(_ reg: Register, _ width: OperandWidth) -> String {
        width == .bits64 ? "r\(reg.rawValue)" : "w\(reg.rawValue)"
    }

    /// The register name LLVM uses for the value of a load or store: `w` below 64 bits.
    private static func register(_ reg: Register, _ size: MemorySize) -> String {
        register(reg, size == .doubleWord ? .bits64 : .bits32)
    }

    private static func type(_ size: MemorySize) -> String { "u\(size.byteCount * 8)" }

    /// `(rN + 0xK)` or `(rN - 0xK)`.
    private static func address(_ base: Register, _ offset: Int16) -> String { "(\(baseAndOffset(base, offset)))" }

    /// `rN + 0xK` or `rN - 0xK`.
    private static func baseAndOffset(_ base: Register, _ offset: Int16) -> String {
        "\(base) \(offset < 0 ? "-" : "+") 0x\(hexDigits(UInt64(offset.magnitude)))"
    }

    /// LLVM's `formatImm` in hex mode: `0x1f`, `-0x1`.
    private static func immediate(_ value: Int64) -> String {
        (value < 0 ? "-0x" : "0x") + hexDigits(value.magnitude)
    }

    /// A jump distance: `+0x2`, `-0x2`, `+0x0`.
    private static func jumpOffset(_ offset: Int64) -> String {
        (offset < 0 ? "" : "+") + immediate(offset)
    }

    /// ` <name+0xNN>` for the target of a jump at `index`, or ` <name>` when the target is the symbol itself.
    /// Targets before the symbol wrap around as unsigned 64-bit byte offsets, as objdump prints them.
    private static func annotation(_ index: Int, _ offset: Int64, _ symbol: (name: String, start: Int)?) -> String {
        guard let symbol else { return "" }
        let target = Int64(index) &+ 1 &+ offset
        let bytes = UInt64(bitPattern: (target &- Int64(symbol.start)) &* 8)
        return bytes == 0 ? " <\(symbol.name)>" : " <\(symbol.name)+0x\(hexDigits(bytes))>"
    }

    private static func operatorText(_ operation: ALUOperation) -> String {
        switch operation {
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

    private static func operatorText(_ condition: JumpCondition) -> String {
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

    /// The LLVM 21 forms of the atomic instructions; byte and half-word sizes have none (`<unknown>`).
    private static func atomicText(_ op: AtomicOperation, fetch: Bool, _ size: MemorySize, dst: Register, src: Register,
                                   offset: Int16) -> String
    {
        let width: OperandWidth
        switch size {
        case .word: width = .bits32
        case .doubleWord: width = .bits64
        case .byte, .half: return unknown
        }
        let s = register(src, width)
        let r0 = register(.r0, width)
        let pointer = "(\(type(size)) *)\(address(dst, offset))"
        switch op {
        case .xchg:
            return "\(s) = \(width == .bits64 ? "xchg_64" : "xchg32_32")(\(baseAndOffset(dst, offset)), \(s))"
        case .cmpxchg:
            let name = width == .bits64 ? "cmpxchg_64" : "cmpxchg32_32"
            return "\(r0) = \(name)(\(baseAndOffset(dst, offset)), \(r0), \(s))"
        case .add, .or, .and, .xor:
            let name: String, compound: String
            switch op {
            case .add: (name, compound) = ("add", "+=")
            case .or: (name, compound) = ("or", "|=")
            case .and: (name, compound) = ("and", "&=")
            default: (name, compound) = ("xor", "^=")
            }
            if fetch { return "\(s) = atomic_fetch_\(name)(\(pointer), \(s))" }
            return "lock *\(pointer) \(compound) \(s)"
        }
    }
}

/// Lower-case hexadecimal digits of `value`, zero-padded to `width`.
private func hexDigits(_ value: UInt64, width: Int = 0) -> String {
    let digits = String(value, radix: 16)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
