import BPFVM
import CJITSupport
import Verifier

/// Compiles verified programs to x86-64 machine code with the interpreter's semantics.
///
/// Only a `VerifiedProgram` can be compiled through the public API: compiled code runs with
/// no check at all, so it relies on everything the verifier proved.
public struct JITCompiler: Sendable {
    public var options: JITOptions

    public init(options: JITOptions = JITOptions()) {
        self.options = options
    }

    /// Compiles a program verified on its own (not from a loaded object): its helpers are the
    /// environment's, it uses no map, and each function gets the stack the verifier measured.
    public func compile(_ verified: VerifiedProgram) throws(JITError) -> CompiledProgram {
        try compile(verified.program, helpers: verified.environment.helpers,
                    stackDepths: verified.statistics.stackDepths, faultSafeLoads: verified.hostLoads)
    }

    /// Compiles a program no verifier has seen: for the conformance runner, which tests the
    /// instruction semantics of programs it has first run to completion in checked mode. Every
    /// function gets the whole 512-byte stack.
    package func compileUnverified(_ program: Program, helpers: HelperTable) throws(JITError) -> CompiledProgram {
        try compile(program, helpers: helpers, stackDepths: nil, faultSafeLoads: [])
    }

    /// Compiles `program`: lays the code out, maps executable memory within reach of the
    /// helpers it calls (or, when none is free there, anywhere, calling them through a
    /// register), writes the code and makes it executable.
    func compile(_ program: Program, helpers: HelperTable, stackDepths: [Int]?, faultSafeLoads: Set<Int>,
                 tailCalls: TailCallTable? = nil) throws(JITError) -> CompiledProgram
    {
        let shape = try ProgramShape(program, stackDepths: stackDepths)
        if let compiled = try attempt(program, shape, helpers, faultSafeLoads, tailCalls, farCalls: false) {
            return compiled
        }
        return try attempt(program, shape, helpers, faultSafeLoads, tailCalls, farCalls: true)!
    }

    /// One compilation; nil when the code could not be placed within reach of its calls.
    private func attempt(_ program: Program, _ shape: ProgramShape, _ helpers: HelperTable, _ faultSafeLoads: Set<Int>,
                         _ tailCalls: TailCallTable?, farCalls: Bool) throws(JITError) -> CompiledProgram?
    {
        var compiler = ProgramCompiler(program: program, shape: shape, helpers: helpers, faultSafeLoads: faultSafeLoads,
                                       options: options, features: .host, farCalls: farCalls)
        try compiler.compile()
        let assembler = compiler.asm
        let layout = assembler.layout()
        let faults = compiler.faults.map {
            bpf_jit_fault_entry(fault_offset: UInt32(layout.offset(of: $0.load)),
                                resume_offset: UInt32(layout.offset(of: $0.resume)),
                                register_number: UInt32($0.register.rawValue))
        }
        let memory: ExecutableMemory
        do {
            memory = try ExecutableMemory(size: layout.size, near: Array(compiler.callTargets), faults: faults) {
                pointer, base in try assembler.encode(layout, into: pointer, base: base)
            }
        } catch {
            switch error {
            case .noNearRange, .writer: return nil
            case let .system(call, errno): throw JITError(.memoryUnavailable(call: call, errno: errno))
            case .tooManyFaultTables: throw JITError(.tooManyFaultTables)
            }
        }
        return CompiledProgram(program: program, memory: memory,
                               instructionOffsets: compiler.slotPositions.map { $0.map(layout.offset(of:)) },
                               functionOffsets: compiler.functionPositions.map(layout.offset(of:)), tailCalls: tailCalls)
    }
}
