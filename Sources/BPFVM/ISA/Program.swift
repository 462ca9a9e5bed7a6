/// A sequence of instruction slots that decodes: every instruction is valid, every jump and
/// local call lands on an instruction inside the program (never inside an `lddw`), and control
/// cannot run past the last instruction.
///
/// The only way to get a `Program` is through this validation, so the interpreter can rely on it.
public struct Program: Hashable, Sendable {
    /// The raw slots (an `lddw` takes two).
    public let instructions: [Instruction]
    /// The decoded instructions with the slot index each starts at, in order.
    public let operations: [(index: Int, operation: Operation)]
    /// Name, kind, functions, source lines and map references (`.anonymous` for bare code).
    public let metadata: ProgramMetadata

    /// Validates `instructions` and builds the program.
    public init(instructions: [Instruction], metadata: ProgramMetadata = .anonymous) throws(DecodeError) {
        guard !instructions.isEmpty else { throw DecodeError(index: 0, reason: .emptyProgram) }
        var operations: [(index: Int, operation: Operation)] = []
        var isSecondSlot = [Bool](repeating: false, count: instructions.count)
        var index = 0
        while index < instructions.count {
            let operation = try Operation.decode(instructions, at: index)
            operations.append((index, operation))
            if operation.slotCount == 2 { isSecondSlot[index + 1] = true }
            index += operation.slotCount
        }
        for (index, operation) in operations {
            guard let offset = operation.jumpOffset else { continue }
            let target = index + 1 + offset
            guard target >= 0 && target < instructions.count else {
                throw DecodeError(index: index, reason: .jumpOutOfRange(target: target))
            }
            if isSecondSlot[target] {
                throw DecodeError(index: index, reason: .jumpIntoLoadImmediate64(target: target))
            }
        }
        let last = operations[operations.count - 1]
        switch last.operation {
        case .exit, .jump, .jumpLong: break
        default: throw DecodeError(index: last.index, reason: .fallsOffEnd)
        }
        self.instructions = instructions
        self.operations = operations
        self.metadata = metadata
    }

    /// Decodes a program from its little-endian byte encoding.
    public init(bytes: some Collection<UInt8>) throws(DecodeError) {
        guard let slots = Instruction.slots(fromBytes: bytes) else {
            throw DecodeError(index: bytes.count / 8, reason: .truncatedSlot(byteCount: bytes.count % 8))
        }
        try self.init(instructions: slots)
    }

    public static func == (lhs: Program, rhs: Program) -> Bool {
        lhs.instructions == rhs.instructions && lhs.metadata == rhs.metadata
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(instructions) }
}
