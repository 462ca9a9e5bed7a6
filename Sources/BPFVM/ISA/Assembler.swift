/// Assembles text in the bpf_conformance syntax into instruction slots.
///
/// The syntax is the one of `lib/src/bpf_assembler.cc` (uBPF style): one instruction per line,
/// `#` comments, `name:` labels, `%r0`-`%r10`, memory operands `[%rN+off]`, jump targets that are
/// a label or `+N` / `-N` (relative to the next instruction), and `exit` as an implicit label for
/// the first `exit` instruction when no label of that name exists. As extensions, a label may be
/// followed by an instruction on the same line, `callx %rN` means `call %rN`, and `lddw` accepts
/// a pseudo kind before its value (`lddw %r1, map_fd 3`, `lddw %r2, func +4`) so that every
/// `Operation` can be written down (see `ConformanceSyntax`).
public enum Assembler {
    /// Assembles `text`; the first error stops assembly and is thrown with its line and column.
    ///
    /// Empty text (or text with only comments and labels) assembles to no slots; `Program` is
    /// what rejects an empty program.
    public static func assemble(_ text: String) throws(AssemblyError) -> [Instruction] {
        let bytes = Array(text.utf8)
        var state = AssemblerState()
        var lineStart = 0
        var lineNumber = 1
        while lineStart <= bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != ASCII.newline { lineEnd += 1 }
            var contentEnd = lineStart
            while contentEnd < lineEnd && bytes[contentEnd] != ASCII.hash { contentEnd += 1 }
            let line = LineParser(bytes: bytes[lineStart..<contentEnd], number: lineNumber)
            try line.assemble(into: &state)
            lineStart = lineEnd + 1
            lineNumber += 1
        }
        return try state.resolveJumps()
    }

    /// The names of the `lddw` pseudo kinds, in `LoadImmediateKind` order (without `.immediate`).
    static let loadImmediateKindNames: [String] = LoadImmediateKind.allCases.compactMap(\.conformanceName)

    /// Every mnemonic the assembler knows, except `lock` (whose operation is its first operand).
    static let forms: [String: Form] = {
        var forms: [String: Form] = [:]
        for operation in ALUOperation.allCases {
            let name = operation.conformanceName
            forms[name] = .alu(operation, .bits64)
            forms[name + "64"] = .alu(operation, .bits64)
            forms[name + "32"] = .alu(operation, .bits32)
        }
        forms["neg"] = .negate(.bits64)
        forms["neg64"] = .negate(.bits64)
        forms["neg32"] = .negate(.bits32)
        for bits in [8, 16, 32] {
            forms["movsx\(bits)64"] = .moveSignExtend(.bits64, bits: bits)
            if bits != 32 { forms["movsx\(bits)32"] = .moveSignExtend(.bits32, bits: bits) }
        }
        for bits in [16, 32, 64] {
            forms["le\(bits)"] = .byteSwap(.toLittleEndian, bits: bits)
            forms["be\(bits)"] = .byteSwap(.toBigEndian, bits: bits)
            forms["swap\(bits)"] = .byteSwap(.unconditional, bits: bits)
            forms["bswap\(bits)"] = .byteSwap(.unconditional, bits: bits)
        }
        forms["lddw"] = .loadImmediate64
        for size in MemorySize.allCases {
            let suffix = size.conformanceSuffix
            forms["ldx" + suffix] = .load(size, signExtend: false)
            if size != .doubleWord { forms["ldxs" + suffix] = .load(size, signExtend: true) }
            forms["st" + suffix] = .storeImmediate(size)
            forms["stx" + suffix] = .store(size)
        }
        forms["ja"] = .jump
        forms["ja32"] = .jumpLong
        for condition in JumpCondition.allCases {
            let name = condition.conformanceName
            forms[name] = .branch(condition, .bits64)
            forms[name + "32"] = .branch(condition, .bits32)
        }
        forms["call"] = .call
        forms["callx"] = .callRegister
        forms["exit"] = .exit
        forms["lock"] = .lock
        return forms
    }()

    /// The atomic operations `lock` takes as its first word (after an optional `fetch`).
    static let atomicForms: [String: (AtomicOperation, MemorySize)] = {
        var forms: [String: (AtomicOperation, MemorySize)] = [:]
        for operation in AtomicOperation.allCases {
            let name = operation.conformanceName
            forms[name] = (operation, .doubleWord)
            forms[name + "64"] = (operation, .doubleWord)
            forms[name + "32"] = (operation, .word)
        }
        return forms
    }()

    /// What a mnemonic assembles to, before its operands are read.
    enum Form: Sendable {
        case alu(ALUOperation, OperandWidth)
        case negate(OperandWidth)
        case moveSignExtend(OperandWidth, bits: Int)
        case byteSwap(ByteSwap, bits: Int)
        case loadImmediate64
        case load(MemorySize, signExtend: Bool)
        case storeImmediate(MemorySize)
        case store(MemorySize)
        case jump
        case jumpLong
        case branch(JumpCondition, OperandWidth)
        case call
        case callRegister
        case exit
        case lock
    }
}

// MARK: - Assembly state across lines

/// Which field of an instruction a pending label reference fills in.
private enum JumpField {
    /// The 16-bit offset (ja, conditional jumps).
    case offset
    /// The 32-bit immediate (ja32, call local, lddw func).
    case imm

    var bits: Int { self == .offset ? 16 : 32 }

    func fits(_ distance: Int) -> Bool {
        switch self {
        case .offset: Int16(exactly: distance) != nil
        case .imm: Int32(exactly: distance) != nil
        }
    }
}

/// A jump to a label, resolved once every label is known.
private struct Fixup {
    var slot: Int
    var label: String
    var field: JumpField
    var line: Int
    var column: Int
}

private struct AssemblerState {
    var slots: [Instruction] = []
    var labels: [String: (slot: Int, line: Int)] = [:]
    var firstExit: Int?
    var fixups: [Fixup] = []

    mutating func resolveJumps() throws(AssemblyError) -> [Instruction] {
        for fixup in fixups {
            let target: Int
            if let label = labels[fixup.label] {
                target = label.slot
            } else if fixup.label == "exit", let firstExit {
                target = firstExit
            } else {
                throw AssemblyError(line: fixup.line, column: fixup.column, reason: .undefinedLabel(fixup.label))
            }
            let distance = target - (fixup.slot + 1)
            guard fixup.field.fits(distance) else {
                throw AssemblyError(line: fixup.line, column: fixup.column,
                                    reason: .jumpOutOfRange(target: fixup.label, distance: distance,
                                                            bits: fixup.field.bits))
            }
            switch fixup.field {
            case .offset: slots[fixup.slot].offset = Int16(distance)
            case .imm: slots[fixup.slot].imm = Int32(distance)
            }
        }
        return slots
    }
}

/// A jump target as written: a distance already known, or a label to look up at the end.
private enum JumpTarget {
    case relative(Int)
    case label(String)
}

// MARK: - Characters

private enum ASCII {
    static let newline = UInt8(ascii: "\n"), hash = UInt8(ascii: "#"), comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":"), percent = UInt8(ascii: "%"), plus = UInt8(ascii: "+")
    static let minus = UInt8(ascii: "-"), openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")
    static let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
    static let lowerX = UInt8(ascii: "x"), upperX = UInt8(ascii: "X")
    static let lowerR = UInt8(ascii: "r")

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0d || byte == 0x0b || byte == 0x0c
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= zero && byte <= nine }

    static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "$")
    }

    static func isIdentifierPart(_ byte: UInt8) -> Bool { isIdentifierStart(byte) || isDigit(byte) }

    /// The value of a digit in base 10 or 16, or nil.
    static func digitValue(_ byte: UInt8, hex: Bool) -> UInt64? {
        if isDigit(byte) { return UInt64(byte - zero) }
        guard hex else { return nil }
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt64(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt64(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}

/// A number as written: sign, magnitude and base, or why it is not one.
private enum ParsedNumber {
    case value(negative: Bool, magnitude: UInt64, hex: Bool)
    case overflow
    case invalid

    /// The value as a signed integer, if it fits in `Int`.
    var signedValue: Int? {
        guard case let .value(negative, magnitude, _) = self else { return nil }
        if negative {
            if magnitude == UInt64(Int.max) + 1 { return Int.min }
            guard let value = Int(exactly: magnitude) else { return nil }
            return -value
        }
        return Int(exactly: magnitude)
    }
}

// MARK: - One line

/// Parses and assembles one line (without its comment); positions are indices into the whole text.
private struct LineParser {
    let bytes: ArraySlice<UInt8>
    let number: Int

    var start: Int { bytes.startIndex }
    var end: Int { bytes.endIndex }

    func column(_ index: Int) -> Int {
        String(decoding: bytes[start..<min(max(index, start), end)], as: UTF8.self).count + 1
    }

    func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    func error(at index: Int, _ reason: AssemblyError.Reason) -> AssemblyError {
        AssemblyError(line: number, column: column(index), reason: reason)
    }

    func skipSpace(from index: Int) -> Int {
        var index = index
        while index < end && ASCII.isSpace(bytes[index]) { index += 1 }
        return index
    }

    /// The end of a word starting at `index`: up to white space or a comma.
    func wordEnd(from index: Int) -> Int {
        var index = index
        while index < end && !ASCII.isSpace(bytes[index]) && bytes[index] != ASCII.comma { index += 1 }
        return index
    }

    func isIdentifier(_ range: Range<Int>) -> Bool {
        guard let first = range.first, ASCII.isIdentifierStart(bytes[first]) else { return false }
        return range.dropFirst().allSatisfy { ASCII.isIdentifierPart(bytes[$0]) }
    }

    func matches(_ range: Range<Int>, _ word: String) -> Bool { bytes[range].elementsEqual(word.utf8) }

    // MARK: Statement

    func assemble(into state: inout AssemblerState) throws(AssemblyError) {
        var index = skipSpace(from: start)
        // Labels, possibly followed by an instruction on the same line.
        while true {
            guard index < end else { return }
            let wordStop = wordEnd(from: index)
            guard wordStop > index, bytes[wordStop - 1] == ASCII.colon else { break }
            let name = index..<(wordStop - 1)
            guard isIdentifier(name) else { throw error(at: index, .invalidLabelName(text(name))) }
            let label = text(name)
            if let previous = state.labels[label] {
                throw error(at: index, .duplicateLabel(label, firstLine: previous.line))
            }
            state.labels[label] = (state.slots.count, number)
            index = skipSpace(from: wordStop)
        }
        if bytes[index] == ASCII.comma { throw error(at: index, .emptyOperand) }
        let mnemonic = index..<wordEnd(from: index)
        let operands = try splitOperands(from: mnemonic.upperBound)
        try assembleInstruction(mnemonic: mnemonic, operands: operands, into: &state)
    }

    /// Splits the operands: separated by commas and/or white space; a bracketed memory operand
    /// may contain white space.
    func splitOperands(from index: Int) throws(AssemblyError) -> [Range<Int>] {
        var operands: [Range<Int>] = []
        var index = index
        var pendingComma: Int?  // a comma not yet followed by an operand
        while true {
            index = skipSpace(from: index)
            guard index < end else {
                if let pendingComma { throw error(at: pendingComma, .emptyOperand) }
                return operands
            }
            if bytes[index] == ASCII.comma {
                if operands.isEmpty || pendingComma != nil { throw error(at: index, .emptyOperand) }
                pendingComma = index
                index += 1
                continue
            }
            let operandStart = index
            if bytes[index] == ASCII.openBracket, let close = bytes[index...].firstIndex(of: ASCII.closeBracket) {
                index = close + 1
            }
            index = wordEnd(from: index)
            operands.append(operandStart..<index)
            pendingComma = nil
        }
    }

    func checkCount(_ operands: [Range<Int>], _ expected: ClosedRange<Int>, mnemonic: Range<Int>, usage: String)
        throws(AssemblyError)
    {
        guard expected.contains(operands.count) else {
            throw error(at: mnemonic.lowerBound,
                        .wrongOperandCount(mnemonic: text(mnemonic), expected: expected, found: operands.count,
                                           usage: usage))
        }
    }

    func assembleInstruction(mnemonic: Range<Int>, operands: [Range<Int>], into state: inout AssemblerState)
        throws(AssemblyError)
    {
        let name = text(mnemonic)
        guard let form = Assembler.forms[name] else { throw error(at: mnemonic.lowerBound, .unknownMnemonic(name)) }
        func count(_ expected: ClosedRange<Int>, _ usage: String) throws(AssemblyError) {
            try checkCount(operands, expected, mnemonic: mnemonic, usage: usage)
        }
        let slot = state.slots.count
        let operation: Operation
        switch form {
        case let .alu(op, width):
            try count(2...2, "\(name) %rD, %rS|imm")
            operation = .alu(op, width, dst: try register(operands[0]), source: try source(operands[1]))
        case let .negate(width):
            try count(1...1, "\(name) %rD")
            operation = .negate(width, dst: try register(operands[0]))
        case let .moveSignExtend(width, bits):
            try count(2...2, "\(name) %rD, %rS")
            operation = .moveSignExtend(width, dst: try register(operands[0]), src: try register(operands[1]),
                                        bits: bits)
        case let .byteSwap(kind, bits):
            try count(1...1, "\(name) %rD")
            operation = .byteSwap(kind, dst: try register(operands[0]), bits: bits)
        case .loadImmediate64:
            let usage = "lddw %rD, imm64 (or lddw %rD, KIND value)"
            try count(operands.count < 2 ? 2...2 : 2...3, usage)
            let dst = try register(operands[0])
            if operands.count == 2 {
                operation = .loadImmediate64(.immediate, dst: dst, value: try immediate64(operands[1]))
                break
            }
            let kindName = text(operands[1])
            guard let kind = LoadImmediateKind.allCases.first(where: { $0.conformanceName == kindName }) else {
                throw error(at: operands[1].lowerBound, .unknownLoadImmediateKind(kindName))
            }
            let valueOperand = operands[2]
            let first = bytes[valueOperand.lowerBound]
            if kind == .codeAddress && (first == ASCII.plus || first == ASCII.minus || isIdentifier(valueOperand)) {
                let distance = try jumpTarget(valueOperand, field: .imm, slot: slot, state: &state)
                operation = .loadImmediate64(kind, dst: dst, value: UInt64(UInt32(bitPattern: Int32(distance))))
            } else {
                operation = .loadImmediate64(kind, dst: dst, value: try immediate64(valueOperand))
            }
        case let .load(size, signExtend):
            try count(2...2, "\(name) %rD, [%rS+off]")
            let dst = try register(operands[0])
            let (src, offset) = try memory(operands[1])
            operation = .load(size, dst: dst, src: src, offset: offset, signExtend: signExtend)
        case let .storeImmediate(size):
            try count(2...2, "\(name) [%rD+off], imm")
            let (dst, offset) = try memory(operands[0])
            operation = .storeImmediate(size, dst: dst, offset: offset, value: try immediate32(operands[1]))
        case let .store(size):
            try count(2...2, "\(name) [%rD+off], %rS")
            let (dst, offset) = try memory(operands[0])
            operation = .store(size, dst: dst, src: try register(operands[1]), offset: offset)
        case .jump:
            try count(1...1, "ja label|+N|-N")
            let distance = try jumpTarget(operands[0], field: .offset, slot: slot, state: &state)
            operation = .jump(offset: Int16(distance))
        case .jumpLong:
            try count(1...1, "ja32 label|+N|-N")
            let distance = try jumpTarget(operands[0], field: .imm, slot: slot, state: &state)
            operation = .jumpLong(offset: Int32(distance))
        case let .branch(condition, width):
            try count(3...3, "\(name) %rD, %rS|imm, label|+N|-N")
            let dst = try register(operands[0])
            let operand = try source(operands[1])
            let distance = try jumpTarget(operands[2], field: .offset, slot: slot, state: &state)
            operation = .branch(condition, width, dst: dst, source: operand, offset: Int16(distance))
        case .call:
            try count(1...2, Self.callUsage)
            operation = .call(try callTarget(mnemonic: mnemonic, operands, slot: slot, state: &state))
        case .callRegister:
            try count(1...1, "callx %rN")
            operation = .call(.register(try register(operands[0])))
        case .exit:
            try count(0...0, "exit")
            if state.firstExit == nil { state.firstExit = slot }
            operation = .exit
        case .lock:
            operation = try atomic(mnemonic: mnemonic, operands: operands)
        }
        state.slots.append(contentsOf: operation.encoded)
    }

    static let callUsage = "call imm | call %rN | call helper imm|%rN | call local label|+N|-N | call runtime imm"

    /// The target of `call`: `imm`, `%rN`, or a kind word (`helper`, `local`, `runtime`) and a target.
    func callTarget(mnemonic: Range<Int>, _ operands: [Range<Int>], slot: Int, state: inout AssemblerState)
        throws(AssemblyError) -> CallTarget
    {
        let target = operands[operands.count - 1]
        func helper() throws(AssemblyError) -> CallTarget {
            if bytes[target.lowerBound] == ASCII.percent { return .register(try register(target)) }
            return .helper(try immediate32(target))
        }
        if operands.count == 1 && ["helper", "local", "runtime"].contains(text(target)) {
            // `call helper` and friends: the kind word is there, the target is missing.
            throw error(at: mnemonic.lowerBound,
                        .wrongOperandCount(mnemonic: "call", expected: 2...2, found: 1, usage: Self.callUsage))
        }
        guard operands.count == 2 else { return try helper() }
        let kind = operands[0]
        switch text(kind) {
        case "helper":
            return try helper()
        case "local":
            return .local(Int32(try jumpTarget(target, field: .imm, slot: slot, state: &state)))
        case "runtime":
            return .kfunc(try immediate32(target))
        default:
            throw error(at: kind.lowerBound, .unknownCallKind(text(kind)))
        }
    }

    /// `lock [fetch] OP[32] [%rD+off], %rS`.
    func atomic(mnemonic: Range<Int>, operands: [Range<Int>]) throws(AssemblyError) -> Operation {
        var rest = operands[...]
        var fetch = false
        if let first = rest.first, matches(first, "fetch") {
            fetch = true
            rest = rest.dropFirst()
        }
        let usage = "lock [fetch] add|and|or|xor|xchg|cmpxchg[32] [%rD+off], %rS"
        func countError() -> AssemblyError {
            error(at: mnemonic.lowerBound,
                  .wrongOperandCount(mnemonic: "lock", expected: 3...3, found: rest.count, usage: usage))
        }
        guard let opWord = rest.first else { throw countError() }
        guard let (op, size) = Assembler.atomicForms[text(opWord)] else {
            throw error(at: opWord.lowerBound, .unknownAtomicOperation(text(opWord)))
        }
        guard rest.count == 3 else { throw countError() }
        let (dst, offset) = try memory(rest[rest.startIndex + 1])
        let src = try register(rest[rest.startIndex + 2])
        return .atomic(op, fetch: fetch || op.alwaysFetches, size, dst: dst, src: src, offset: offset)
    }

    // MARK: Operands

    func register(_ range: Range<Int>) throws(AssemblyError) -> Register {
        guard bytes[range.lowerBound] == ASCII.percent else {
            throw error(at: range.lowerBound, .expectedRegister(found: text(range)))
        }
        func invalid() -> AssemblyError { error(at: range.lowerBound, .invalidRegister(text(range))) }
        guard (3...4).contains(range.count), bytes[range.lowerBound + 1] == ASCII.lowerR else { throw invalid() }
        let digits = (range.lowerBound + 2)..<range.upperBound
        guard digits.allSatisfy({ ASCII.isDigit(bytes[$0]) }) else { throw invalid() }
        var value: UInt8 = 0
        for index in digits { value = value * 10 + (bytes[index] - ASCII.zero) }
        guard let register = Register(rawValue: value) else { throw invalid() }
        return register
    }

    /// The second operand of ALU and branch instructions: a register if it starts with `%`, else an immediate.
    func source(_ range: Range<Int>) throws(AssemblyError) -> Operand {
        if bytes[range.lowerBound] == ASCII.percent { return .register(try register(range)) }
        return .immediate(try immediate32(range))
    }

    /// Parses `[+-]digits` or `[+-]0xhex` over `range`.
    func parseNumber(_ range: Range<Int>, allowSign: Bool) -> ParsedNumber {
        var index = range.lowerBound
        var negative = false
        if allowSign && index < range.upperBound && (bytes[index] == ASCII.plus || bytes[index] == ASCII.minus) {
            negative = bytes[index] == ASCII.minus
            index += 1
        }
        var hex = false
        if range.upperBound - index >= 2 && bytes[index] == ASCII.zero
            && (bytes[index + 1] == ASCII.lowerX || bytes[index + 1] == ASCII.upperX)
        {
            hex = true
            index += 2
        }
        guard index < range.upperBound else { return .invalid }
        let base: UInt64 = hex ? 16 : 10
        var magnitude: UInt64 = 0
        var overflow = false
        while index < range.upperBound {
            guard let digit = ASCII.digitValue(bytes[index], hex: hex) else { return .invalid }
            let (product, productOverflow) = magnitude.multipliedReportingOverflow(by: base)
            let (sum, sumOverflow) = product.addingReportingOverflow(digit)
            if productOverflow || sumOverflow { overflow = true }
            magnitude = sum
            index += 1
        }
        return overflow ? .overflow : .value(negative: negative, magnitude: magnitude, hex: hex)
    }

    /// A 32-bit immediate: signed decimal in Int32 range, or hex up to 0xffffffff taken as bits.
    func immediate32(_ range: Range<Int>) throws(AssemblyError) -> Int32 {
        func outOfRange() -> AssemblyError { error(at: range.lowerBound, .immediateOutOfRange(text(range), bits: 32)) }
        switch parseNumber(range, allowSign: true) {
        case .invalid:
            throw error(at: range.lowerBound, .invalidImmediate(text(range)))
        case .overflow:
            throw outOfRange()
        case let .value(negative, magnitude, hex):
            if negative {
                guard magnitude <= 0x8000_0000 else { throw outOfRange() }
                return Int32(truncatingIfNeeded: 0 &- magnitude)
            }
            guard magnitude <= (hex ? 0xffff_ffff : UInt64(Int32.max)) else { throw outOfRange() }
            return Int32(truncatingIfNeeded: magnitude)
        }
    }

    /// A 64-bit immediate: decimal (negative down to Int64.min) or hex up to 0xffffffffffffffff.
    func immediate64(_ range: Range<Int>) throws(AssemblyError) -> UInt64 {
        func outOfRange() -> AssemblyError { error(at: range.lowerBound, .immediateOutOfRange(text(range), bits: 64)) }
        switch parseNumber(range, allowSign: true) {
        case .invalid:
            throw error(at: range.lowerBound, .invalidImmediate(text(range)))
        case .overflow:
            throw outOfRange()
        case let .value(negative, magnitude, _):
            if negative {
                guard magnitude <= 1 << 63 else { throw outOfRange() }
                return 0 &- magnitude
            }
            return magnitude
        }
    }

    /// `[%rN]`, `[%rN+off]` or `[%rN-off]`, with optional white space inside the brackets.
    func memory(_ range: Range<Int>) throws(AssemblyError) -> (Register, Int16) {
        func malformed() -> AssemblyError { error(at: range.lowerBound, .malformedMemoryOperand(text(range))) }
        guard range.count >= 2, bytes[range.lowerBound] == ASCII.openBracket,
              bytes[range.upperBound - 1] == ASCII.closeBracket
        else { throw malformed() }
        let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
        var index = skipSpace(from: inner.lowerBound)
        guard index < inner.upperBound, bytes[index] == ASCII.percent else { throw malformed() }
        let registerStart = index
        index += 1
        while index < inner.upperBound && ASCII.isIdentifierPart(bytes[index]) { index += 1 }
        let base = try register(registerStart..<index)
        index = skipSpace(from: index)
        guard index < inner.upperBound else { return (base, 0) }
        let signIndex = index
        guard bytes[index] == ASCII.plus || bytes[index] == ASCII.minus else { throw malformed() }
        let numberStart = skipSpace(from: index + 1)
        var numberEnd = inner.upperBound
        while numberEnd > numberStart && ASCII.isSpace(bytes[numberEnd - 1]) { numberEnd -= 1 }
        func outOfRange() -> AssemblyError {
            error(at: signIndex, .offsetOutOfRange(text(signIndex..<numberEnd).filter { !$0.isWhitespace }))
        }
        switch parseNumber(numberStart..<numberEnd, allowSign: false) {
        case .invalid:
            throw malformed()
        case .overflow:
            throw outOfRange()
        case let .value(_, magnitude, _):
            guard let value = Int(exactly: magnitude),
                  let offset = Int16(exactly: bytes[signIndex] == ASCII.minus ? -value : value)
            else { throw outOfRange() }
            return (base, offset)
        }
    }

    /// A jump target: `+N` / `-N` (checked against the field now) or a label (recorded for later).
    /// Returns the distance, or 0 for a label, which `AssemblerState.resolveJumps` fills in.
    func jumpTarget(_ range: Range<Int>, field: JumpField, slot: Int, state: inout AssemblerState)
        throws(AssemblyError) -> Int
    {
        let first = bytes[range.lowerBound]
        if first == ASCII.plus || first == ASCII.minus {
            let parsed = parseNumber(range, allowSign: true)
            if case .invalid = parsed { throw error(at: range.lowerBound, .invalidJumpTarget(text(range))) }
            guard let distance = parsed.signedValue, field.fits(distance) else {
                throw error(at: range.lowerBound,
                            .jumpOutOfRange(target: text(range), distance: parsed.signedValue, bits: field.bits))
            }
            return distance
        }
        guard isIdentifier(range) else { throw error(at: range.lowerBound, .invalidJumpTarget(text(range))) }
        state.fixups.append(Fixup(slot: slot, label: text(range), field: field, line: number,
                                  column: column(range.lowerBound)))
        return 0
    }
}
