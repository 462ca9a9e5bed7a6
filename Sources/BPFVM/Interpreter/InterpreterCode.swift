/// A program's code in the form the interpreter loop reads, in memory that never moves while
/// the program lives: each opcode byte replaced by its `InterpreterOpcode`, and each function
/// address (`lddw` src 4) replaced by the absolute address of the slot it names.
final class InterpreterCode: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Instruction>
    /// Slot indices where an instruction starts (false for the second slot of an `lddw`).
    private let startsInstruction: [Bool]

    init(_ program: Program) {
        buffer = .allocate(capacity: program.instructions.count)
        _ = buffer.initialize(from: program.instructions)
        var starts = [Bool](repeating: false, count: program.instructions.count)
        let base = UInt64(UInt(bitPattern: buffer.baseAddress))
        for (index, operation) in program.operations {
            starts[index] = true
            // `Program` admits only valid opcodes, and every valid opcode has an internal one.
            buffer[index].opcode = InterpreterOpcode(opcode: buffer[index].opcode)!.rawValue
            if case .loadImmediate64(.codeAddress, _, let value) = operation {
                let target = index + 1 + Int(Int32(truncatingIfNeeded: value))
                let address = base + UInt64(target * MemoryLayout<Instruction>.stride)
                buffer[index].registers &= 0x0f
                buffer[index].imm = Int32(truncatingIfNeeded: address)
                buffer[index + 1].imm = Int32(truncatingIfNeeded: address >> 32)
            }
        }
        startsInstruction = starts
    }

    deinit { buffer.deallocate() }

    var start: UnsafePointer<Instruction> { UnsafePointer(buffer.baseAddress!) }

    /// The slot at a code address, if the address is the start of an instruction of this program.
    func instruction(at address: UInt64) -> UnsafePointer<Instruction>? {
        let base = UInt64(UInt(bitPattern: buffer.baseAddress))
        let stride = UInt64(MemoryLayout<Instruction>.stride)
        guard address >= base, (address - base) % stride == 0 else { return nil }
        let index = Int((address - base) / stride)
        guard index < buffer.count, startsInstruction[index] else { return nil }
        return start + index
    }
}
