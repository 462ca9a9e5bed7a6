/// A typed assembly error with 1-based line and column and a message a user can act on.
///
/// `line` counts lines of the assembled text from 1; `column` counts characters of that line
/// from 1 and points at the offending token (or at the part of a memory operand that is wrong).
public struct AssemblyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The 1-based line of the offending text.
    public let line: Int
    /// The 1-based column (in characters) where the offending token starts.
    public let column: Int
    /// What is wrong.
    public let reason: Reason

    public init(line: Int, column: Int, reason: Reason) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// The problems the assembler reports; the associated strings quote the offending text.
    public enum Reason: Hashable, Sendable {
        /// The first word of the line is not an instruction the assembler knows.
        case unknownMnemonic(String)
        /// `lock` names no atomic operation (add, and, or, xor, xchg, cmpxchg, with optional `32`).
        case unknownAtomicOperation(String)
        /// `call` with a first word other than `helper`, `local` or `runtime`.
        case unknownCallKind(String)
        /// `lddw` with a pseudo-immediate kind other than the known ones (`map_fd`, `func`, ...).
        case unknownLoadImmediateKind(String)
        /// The instruction has the wrong number of operands (`expected` is the allowed count); `usage` shows the form.
        case wrongOperandCount(mnemonic: String, expected: ClosedRange<Int>, found: Int, usage: String)
        /// Two commas in a row, or a comma with nothing after it.
        case emptyOperand
        /// A `%`-operand that is not one of `%r0`-`%r10`.
        case invalidRegister(String)
        /// A register is required here, but the operand is something else.
        case expectedRegister(found: String)
        /// An operand that should be a number is not one (signed decimal or `0x` hex).
        case invalidImmediate(String)
        /// A number that does not fit the immediate field (`bits` is 32, or 64 for `lddw`).
        case immediateOutOfRange(String, bits: Int)
        /// A memory displacement outside the signed 16-bit range.
        case offsetOutOfRange(String)
        /// A memory operand not of the form `[%rN]`, `[%rN+off]` or `[%rN-off]`.
        case malformedMemoryOperand(String)
        /// A jump target that is neither a label nor `+N` / `-N`.
        case invalidJumpTarget(String)
        /// A jump or call names a label that is defined nowhere (and, for `exit`, no `exit` instruction exists).
        case undefinedLabel(String)
        /// A label defined twice; `firstLine` is where it was first defined.
        case duplicateLabel(String, firstLine: Int)
        /// A label whose name is not an identifier (letters, digits, `_`, `.`, `$`; not starting with a digit).
        case invalidLabelName(String)
        /// A jump distance (from `+N` / `-N` or to a label) that does not fit the `bits`-bit jump field.
        case jumpOutOfRange(target: String, distance: Int?, bits: Int)
    }

    /// `line L, column C: message`.
    public var description: String { "line \(line), column \(column): \(message)" }

    /// The message alone, without the position.
    public var message: String {
        switch reason {
        case .unknownMnemonic(let word):
            return "unknown mnemonic '\(word)'"
        case .unknownAtomicOperation(let word):
            return "unknown atomic operation '\(word)' (expected add, and, or, xor, xchg or cmpxchg, "
                + "optionally with the suffix 32)"
        case .unknownCallKind(let word):
            return "unknown call kind '\(word)' (expected helper, local or runtime)"
        case .unknownLoadImmediateKind(let word):
            return "unknown lddw kind '\(word)' (expected an immediate, or one of "
                + Assembler.loadImmediateKindNames.joined(separator: ", ") + " before the value)"
        case let .wrongOperandCount(mnemonic, expected, found, usage):
            let count = expected.count == 1
                ? "\(expected.lowerBound)"
                : "\(expected.lowerBound) \(expected.count == 2 ? "or" : "to") \(expected.upperBound)"
            let noun = expected == 1...1 ? "operand" : "operands"
            let given = found == 1 ? "1 was given" : "\(found) were given"
            return "'\(mnemonic)' takes \(count) \(noun) but \(given) (usage: \(usage))"
        case .emptyOperand:
            return "empty operand (a comma with no operand before or after it)"
        case .invalidRegister(let text):
            return "invalid register '\(text)' (registers are %r0-%r10)"
        case .expectedRegister(let found):
            return "expected a register (%r0-%r10), found '\(found)'"
        case .invalidImmediate(let text):
            return "'\(text)' is not a valid immediate (expected a signed decimal or 0x hexadecimal number)"
        case let .immediateOutOfRange(text, bits):
            if bits == 64 {
                return "immediate \(text) does not fit in 64 bits"
            }
            return "immediate \(text) does not fit in 32 bits "
                + "(decimal -2147483648...2147483647, or hex 0x0...0xffffffff)"
        case .offsetOutOfRange(let text):
            return "offset \(text) does not fit in 16 bits (-32768...32767)"
        case .malformedMemoryOperand(let text):
            return "malformed memory operand '\(text)' (expected [%rN], [%rN+off] or [%rN-off])"
        case .invalidJumpTarget(let text):
            return "invalid jump target '\(text)' (expected a label, +N or -N)"
        case .undefinedLabel(let name):
            if name == "exit" {
                return "undefined label 'exit' (no label of that name and no exit instruction)"
            }
            return "undefined label '\(name)'"
        case let .duplicateLabel(name, firstLine):
            return "duplicate label '\(name)' (first defined on line \(firstLine))"
        case .invalidLabelName(let name):
            return "invalid label name '\(name)' (use letters, digits, '_', '.' or '$', not starting with a digit)"
        case let .jumpOutOfRange(target, distance, bits):
            let limit = bits == 16 ? "-32768...32767" : "-2147483648...2147483647"
            if let distance {
                return "jump to \(target) is \(distance) instructions away; a \(bits)-bit jump reaches \(limit)"
            }
            return "jump distance \(target) does not fit in \(bits) bits (\(limit))"
        }
    }
}
