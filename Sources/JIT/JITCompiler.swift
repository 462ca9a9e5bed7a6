import BPFVM
import CJITSupport
import Verifier

/// Compiles verified programs to x86-64 machine code with the interpreter's semantics.
///
/// Only a `VerifiedProgram` can be compiled through the public API: compiled code runs with
/// no check at all, so it relies on everything the verifier proved.
public struct JITCompiler: Sendable {
    public var options: JITOptions
    /// Addresses the code must also lie within ±2 GiB of, besides those it calls (the attach
    /// layer's trampolines call the code with `call rel32` from near the host's hooks).
    package var nearAddresses: [UInt64] = []

    public init(options: JITOptions = JITOptions()) {
        self.options = options
    }

    /// Compiles a program verified on its own (not from a loaded object): its helpers are the
    /// environment's, it uses no map, and each function gets the stack the verifier measured.
    public func compile(_ verified: VerifiedProgram) throws(JITError) -> CompiledProgram {
        let unit = Unit(program: verified.program, helpers: verified.environment.helpers,
                        stackDepths: verified.statistics.stackDepths, faultSafeLoads: verified.hostLoads,
                        environment: verified.environment)
        return try compile([unit])[0]
    }

    /// Compiles a program of a loaded object, `verified` being what `loaded.verify(...)` gave:
    /// its maps and globals are the object's, its helpers see the object's context. Its tail
    /// calls can reach only programs compiled with it (see `compile(_:)` on several).
    public func compile(_ verified: VerifiedProgram, loaded: LoadedProgram) throws(JITError) -> CompiledProgram {
        try compile([(verified, loaded)])[0]
    }

    /// Compiles programs of one loaded object together, into one piece of executable memory:
    /// their tail calls reach each other through the object's program arrays, among programs
    /// verified for the same kind and context (a slot holding a program not compiled with them,
    /// or verified for another context, is a tail call that cannot be made). Each must come
    /// with what the verifier gave for it.
    public func compile(_ programs: [(verified: VerifiedProgram, loaded: LoadedProgram)]) throws(JITError)
        -> [CompiledProgram]
    {
        var units: [Unit] = []
        for (verified, loaded) in programs {
            guard loaded.linked.instructions == verified.program.instructions else {
                throw JITError(.notTheVerifiedProgram(loaded.name))
            }
            units.append(Unit(program: loaded.interpreter.program, helpers: loaded.helpers,
                              stackDepths: verified.statistics.stackDepths, faultSafeLoads: verified.hostLoads,
                              loaded: loaded, environment: verified.environment))
        }
        return try compileTogether(units)
    }

    /// Compiles a program no verifier has seen: for the conformance runner, which tests the
    /// instruction semantics of programs it has first run to completion in checked mode. Every
    /// function gets the whole 512-byte stack.
    package func compileUnverified(_ program: Program, helpers: HelperTable) throws(JITError) -> CompiledProgram {
        try compile([Unit(program: program, helpers: helpers, stackDepths: nil, faultSafeLoads: [])])[0]
    }

    /// `compileUnverified` for programs of a loaded object, compiled together (for tests that
    /// run them as the interpreter's trusted mode does, with contexts they build themselves).
    package func compileUnverified(_ programs: [LoadedProgram]) throws(JITError) -> [CompiledProgram] {
        try compileTogether(programs.map {
            Unit(program: $0.interpreter.program, helpers: $0.helpers, stackDepths: nil, faultSafeLoads: [], loaded: $0)
        })
    }

    /// Programs of one object compiled together, their tail calls reaching each other: one
    /// table of targets per context the programs were verified for, so that compiled code only
    /// ever continues in code proven safe for the context its run was given.
    private func compileTogether(_ units: [Unit]) throws(JITError) -> [CompiledProgram] {
        guard let first = units.first?.loaded else { return [] }
        for unit in units where unit.loaded?.executionContext !== first.executionContext {
            throw JITError(.notOneObject)
        }
        var tables: [ProvenContext?: TailCallTable] = [:]
        var units = units
        for index in units.indices {
            let proven = units[index].environment?.provenContext
            if tables[proven] == nil { tables[proven] = TailCallTable(arrays: first.programArrays) }
            units[index].tailCalls = tables[proven]
        }
        let compiled = try compile(units)
        for (program, unit) in zip(compiled, units) { unit.tailCalls!.add(unit.loaded!, entry: program.entryFunctionAddress) }
        return compiled
    }

    /// One program to compile and what its code needs.
    struct Unit {
        var program: Program
        var helpers: HelperTable
        var stackDepths: [Int]?
        var faultSafeLoads: Set<Int>
        var loaded: LoadedProgram? = nil
        /// The environment the program was verified in (nil: unverified).
        var environment: VerificationEnvironment? = nil
        /// Where its tail calls go (nil: they fail).
        var tailCalls: TailCallTable? = nil
    }

    /// Compiles `units` into one piece of executable memory: lays the code out, maps memory
    /// within reach of the helpers it calls (or, when none is free there, anywhere, calling
    /// them through a register), writes the code and makes it executable.
    func compile(_ units: [Unit]) throws(JITError) -> [CompiledProgram] {
        var shapes: [ProgramShape] = []
        for unit in units { shapes.append(try ProgramShape(unit.program, stackDepths: unit.stackDepths)) }
        if let compiled = try attempt(units, shapes, farCalls: false) { return compiled }
        return try attempt(units, shapes, farCalls: true)!
    }

    /// One compilation; nil when the code could not be placed within reach of its calls.
    private func attempt(_ units: [Unit], _ shapes: [ProgramShape], farCalls: Bool)
        throws(JITError) -> [CompiledProgram]?
    {
        var assembler = X86Assembler(capacity: 64 * units.reduce(0) { $0 + $1.program.instructions.count } + 256)
        var compilers: [ProgramCompiler] = []
        var callTargets: Set<UInt64> = []
        for (unit, shape) in zip(units, shapes) {
            var compiler = ProgramCompiler(program: unit.program, shape: shape, helpers: unit.helpers,
                                           maps: unit.loaded?.maps ?? [], faultSafeLoads: unit.faultSafeLoads, options: options, features: .host,
                                           farCalls: farCalls, into: assembler)
            try compiler.compile()
            assembler = compiler.asm
            callTargets.formUnion(compiler.callTargets)
            compilers.append(compiler)
        }
        let layout = assembler.layout()
        let faults = compilers.flatMap { compiler in
            compiler.faults.map {
                bpf_jit_fault_entry(fault_offset: UInt32(layout.offset(of: $0.load)),
                                    resume_offset: UInt32(layout.offset(of: $0.resume)),
                                    register_number: UInt32($0.register.rawValue))
            }
        }
        let memory: ExecutableMemory
        do {
            memory = try ExecutableMemory(size: layout.size, near: Array(callTargets) + nearAddresses, faults: faults) {
                pointer, base in try assembler.encode(layout, into: pointer, base: base)
            }
        } catch {
            switch error {
            case .noNearRange, .writer: return nil
            case let .system(call, errno): throw JITError(.memoryUnavailable(call: call, errno: errno))
            case .tooManyFaultTables: throw JITError(.tooManyFaultTables)
            }
        }
        var programs: [CompiledProgram] = []
        for (number, (unit, compiler)) in zip(units, compilers).enumerated() {
            let end = number + 1 < compilers.count ? layout.offset(of: compilers[number + 1].entryPosition) : layout.size
            var offsets = [Int?](repeating: nil, count: compiler.slotPositions.count)
            for (slot, position) in compiler.slotPositions.enumerated() {
                if let position { offsets[slot] = layout.offset(of: position) }
            }
            var functions: [(instruction: Int, offset: Int)] = []
            for (function, position) in zip(compiler.shape.functions, compiler.functionPositions) {
                functions.append((function.start, layout.offset(of: position)))
            }
            programs.append(CompiledProgram(
                program: unit.program, memory: memory, entryOffset: layout.offset(of: compiler.entryPosition), endOffset: end,
                dataOffset: compiler.dataPosition.map(layout.offset(of:)) ?? end, instructionOffsets: offsets,
                functionOffsets: functions, tailCalls: unit.tailCalls, loaded: unit.loaded,
                executionContext: unit.loaded?.executionContext, environment: unit.environment, canUnwind: compiler.canUnwind))
        }
        return programs
    }
}
