/// A program's code in the form the interpreter loop reads, in memory that never moves while
/// the program lives: each opcode byte replaced by its `InterpreterOpcode`, each function
/// address (`lddw` src 4) replaced by the absolute address of the slot it names, and, for
/// checked mode, the provenance of every `lddw` constant (a map, a map value, a function) in a
/// side table that the second slot's offset field indexes.
///
/// Behind the instructions, at `checkOffset` bytes from each slot, lies that slot's `CheckWord`,
/// which checked mode reads instead of decoding the instruction again.
final class InterpreterCode: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Instruction>
    /// Bytes from an instruction slot to its check word.
    let checkOffset: Int
    /// The provenance of the `lddw` constants; entry 0 is a plain number.
    let constantTable: UnsafeMutableBufferPointer<Provenance>
    /// Why each poisoned instruction was poisoned, by index (see `PoisonedInstruction`).
    let poisoned: [Int: String]

    /// `constants` gives the provenance of the `lddw` at each instruction index that loads an
    /// address of an object (function addresses are found here); every other `lddw` loads a number.
    init(_ program: Program, constants: [Int: Provenance] = [:]) {
        let count = program.instructions.count
        checkOffset = count * MemoryLayout<Instruction>.stride
        let storage = UnsafeMutableRawPointer.allocate(byteCount: 2 * checkOffset, alignment: 8)
        buffer = UnsafeMutableBufferPointer(start: storage.bindMemory(to: Instruction.self, capacity: count), count: count)
        _ = buffer.initialize(from: program.instructions)
        let checks = (storage + checkOffset).bindMemory(to: UInt64.self, capacity: count)
        for (index, instruction) in program.instructions.enumerated() { checks[index] = CheckWord(instruction).raw }
        var table: [Provenance] = [.scalar]
        let base = UInt64(UInt(bitPattern: buffer.baseAddress))
        for (index, operation) in program.operations {
            // `Program` admits only valid opcodes, and every valid opcode has an internal one.
            buffer[index].opcode = InterpreterOpcode(opcode: buffer[index].opcode)!.rawValue
            guard case .loadImmediate64(let kind, _, let value) = operation else { continue }
            var provenance = constants[index]
            if kind == .codeAddress {
                // `Program` proved the target is the start of an instruction of this program.
                let target = index + 1 + Int(Int32(truncatingIfNeeded: value))
                let address = base + UInt64(target * MemoryLayout<Instruction>.stride)
                buffer[index].registers &= 0x0f
                buffer[index].imm = Int32(truncatingIfNeeded: address)
                buffer[index + 1].imm = Int32(truncatingIfNeeded: address >> 32)
                provenance = Provenance(.code)
            }
            if let provenance, table.count <= Int(UInt16.max) {
                buffer[index + 1].offset = Int16(bitPattern: UInt16(table.count))
                table.append(provenance)
            }
        }
        poisoned = Dictionary(program.metadata.poisoned.map { ($0.instructionIndex, $0.reason) },
                              uniquingKeysWith: { first, _ in first })
        constantTable = .allocate(capacity: table.count)
        _ = constantTable.initialize(from: table)
    }

    deinit {
        UnsafeMutableRawPointer(buffer.baseAddress!).deallocate()
        constantTable.deallocate()
    }

    var start: UnsafePointer<Instruction> { UnsafePointer(buffer.baseAddress!) }
    var constants: UnsafePointer<Provenance> { UnsafePointer(constantTable.baseAddress!) }
}
