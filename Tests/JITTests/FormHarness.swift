import BPFVM
import Testing
@testable import JIT

/// Runs one instruction under test inside a program that gives every register a known value
/// first and writes every register out afterwards, in the interpreter (checked mode, the
/// reference) and as compiled code, and compares r0, the registers and the whole memory.
///
/// Memory layout: [0, 16) the two inputs, [16, 96) the initial r0-r9, [96, 176) r0-r9 after
/// the instruction, [176, 184) whether a branch was taken, [256, 768) scratch memory that
/// pointer registers point into (at `scratchOffset`).
struct FormHarness {
    /// What a register holds before the instruction runs.
    enum Setup {
        /// Input 0 or 1 (bytes [0, 8) or [8, 16) of the memory).
        case input(Int)
        /// A pointer `offset` bytes into the memory.
        case pointer(Int32)
        /// The 8 bytes of the memory at `offset`.
        case contents(Int16)
    }

    static let outputs = 96, taken = 176, scratchOffset: Int32 = 512, memorySize = 768

    let program: Program

    /// `operation` with the registers set up as `setup` says (the rest hold distinct values);
    /// a branch's offset is replaced so that it skips one instruction that records "not taken".
    init(_ operation: Operation, setup: [Register: Setup]) throws {
        try self.init([operation], setup: setup)
    }

    /// `operations` in sequence (a branch only alone), with the registers set up as `setup` says.
    init(_ operations: [Operation], setup: [Register: Setup]) throws {
        var code: [Operation] = [
            .store(.doubleWord, dst: .r10, src: .r1, offset: -8),
            .storeImmediate(.doubleWord, dst: .r10, offset: -24, value: 1),
        ]
        func load(_ register: Register, _ setup: Setup?) {
            switch setup {
            case .input(let slot)?:
                code.append(.load(.doubleWord, dst: register, src: .r1, offset: Int16(slot * 8), signExtend: false))
            case .pointer(let offset)?:
                code.append(.alu(.mov, .bits64, dst: register, source: .register(.r1)))
                code.append(.alu(.add, .bits64, dst: register, source: .immediate(offset)))
            case .contents(let offset)?:
                code.append(.load(.doubleWord, dst: register, src: .r1, offset: offset, signExtend: false))
            case nil:
                code.append(.load(.doubleWord, dst: register, src: .r1, offset: Int16(16 + 8 * Int(register.rawValue)),
                                  signExtend: false))
            }
        }
        for register in Register.allCases where register != .r1 && register != .r10 { load(register, setup[register]) }
        load(.r1, setup[.r1])
        if operations.count == 1, case let .branch(condition, width, dst, source, _) = operations[0] {
            // Taken: skip the store of "not taken".
            code.append(.branch(condition, width, dst: dst, source: source, offset: 1))
            code.append(.storeImmediate(.doubleWord, dst: .r10, offset: -24, value: 0))
        } else {
            code += operations
        }
        code.append(.store(.doubleWord, dst: .r10, src: .r1, offset: -16))
        code.append(.load(.doubleWord, dst: .r1, src: .r10, offset: -8, signExtend: false))
        for register in Register.allCases where register != .r1 && register != .r10 {
            code.append(.store(.doubleWord, dst: .r1, src: register, offset: Int16(Self.outputs + 8 * Int(register.rawValue))))
        }
        code.append(.load(.doubleWord, dst: .r2, src: .r10, offset: -16, signExtend: false))
        code.append(.store(.doubleWord, dst: .r1, src: .r2, offset: Int16(Self.outputs + 8)))
        code.append(.load(.doubleWord, dst: .r2, src: .r10, offset: -24, signExtend: false))
        code.append(.store(.doubleWord, dst: .r1, src: .r2, offset: Int16(Self.taken)))
        code.append(.exit)
        program = try Program(instructions: code.flatMap(\.encoded))
    }

    /// The memory for inputs `a` and `b`, with distinct initial registers and patterned scratch memory.
    static func memory(_ a: UInt64, _ b: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: memorySize)
        func put(_ value: UInt64, at offset: Int) {
            for byte in 0..<8 { bytes[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte))) }
        }
        put(a, at: 0)
        put(b, at: 8)
        for register in 0..<10 { put(0x1111_1111_1111_1111 &* UInt64(register + 1) ^ 0x8000_0000_8000_0000, at: 16 + 8 * register) }
        for offset in 256..<memorySize { bytes[offset] = UInt8(truncatingIfNeeded: offset &* 37 &+ 0x81) }
        return bytes
    }

    /// Compiles the program once and runs every input pair in both engines.
    func check(_ inputs: [(UInt64, UInt64)], _ describe: String) throws {
        let interpreter = try Interpreter(program: program, helpers: HelperTable())
        let compiled = try JITCompiler().compileUnverified(program, helpers: HelperTable())
        for (a, b) in inputs {
            var reference = Self.memory(a, b)
            var jitted = reference
            let expected = try reference.withUnsafeMutableBytes { buffer in
                defer { Self.relocate(buffer) }
                return Self.relative(try interpreter.run(memory: buffer), buffer)
            }
            let actual = try jitted.withUnsafeMutableBytes { buffer in
                defer { Self.relocate(buffer) }
                return Self.relative(try compiled.run(memory: buffer), buffer)
            }
            #expect(actual == expected && jitted == reference,
                    "\(describe) a=0x\(String(a, radix: 16)) b=0x\(String(b, radix: 16)): \(Self.difference(reference, jitted))")
        }
    }

    /// A register value as an offset when it points into the run's memory (the two engines run
    /// over different copies), else as it is.
    static func relative(_ value: UInt64, _ buffer: UnsafeMutableRawBufferPointer) -> UInt64 {
        let base = UInt64(UInt(bitPattern: buffer.baseAddress!))
        return value >= base && value < base + UInt64(buffer.count) ? 0xbad0_0000_0000_0000 | (value - base) : value
    }

    /// The registers written out, with pointers into the memory made relative.
    static func relocate(_ buffer: UnsafeMutableRawBufferPointer) {
        for register in 0..<10 {
            let offset = outputs + 8 * register
            buffer.storeBytes(of: relative(buffer.load(fromByteOffset: offset, as: UInt64.self), buffer), toByteOffset: offset,
                              as: UInt64.self)
        }
    }

    static func difference(_ reference: [UInt8], _ jitted: [UInt8]) -> String {
        func word(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
        var lines: [String] = []
        for register in 0..<10 where word(reference, outputs + 8 * register) != word(jitted, outputs + 8 * register) {
            lines.append("r\(register) interpreter 0x\(String(word(reference, outputs + 8 * register), radix: 16)) JIT 0x\(String(word(jitted, outputs + 8 * register), radix: 16))")
        }
        if reference[taken] != jitted[taken] { lines.append("branch taken: interpreter \(reference[taken]) JIT \(jitted[taken])") }
        if reference[256...] != jitted[256...] { lines.append("scratch memory differs") }
        return lines.joined(separator: "; ")
    }
}
