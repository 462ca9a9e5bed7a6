import BPFVM

extension LoadedProgram {
    /// What the program is verified against: its kind, its maps (in the order its `lddw`
    /// instructions name them) with the values of those that are frozen and read-only to
    /// programs, the helpers it was bound to, and its context: an `xdp_md` for xdp, the hook's
    /// argument slots typed by `hostBTF` for hook kinds, else `contextSize` bytes of memory
    /// with their length in r2 (as `testRun` gives them).
    public func verificationEnvironment(contextSize: Int, hostBTF: BTF?) throws(VerifierError) -> VerificationEnvironment {
        let context: ContextLayout
        if let hook = kind.hook {
            guard let hostBTF else {
                throw VerifierError(.invalidHook("'\(kind)' programs are verified against the host's BTF, and none was given (it defines the hook '\(hook)')"), at: nil)
            }
            context = .hookArguments(try HookPrototype(function: hook, in: hostBTF))
        } else if kind == .testRun(type: "xdp") {
            context = .xdp
        } else {
            context = .memory(size: contextSize, lengthInR2: true)
        }
        var frozenValues: [Int: [UInt8]] = [:]
        for (index, map) in maps.enumerated() where map.isFrozen && map.isReadOnlyForPrograms
            && map.definition.type == .array && map.definition.maxEntries == 1
        {
            frozenValues[index] = map.lookup([0, 0, 0, 0])
        }
        return VerificationEnvironment(kind: kind, context: context, maps: maps.map(\.definition), helpers: helpers,
                                       frozenValues: frozenValues)
    }

    /// Verifies the program: a `VerifiedProgram` that may run unchecked, or why not.
    public func verify(contextSize: Int = 256, hostBTF: BTF? = nil, options: VerifierOptions = VerifierOptions())
        throws(VerifierError) -> VerifiedProgram
    {
        try verify(contextSize: contextSize, hostBTF: hostBTF, overrideRange: nil, options: options)
    }

    /// `verify` for a hook whose return value programs may override only within `overrideRange`
    /// (what `lsm` and `fmod_ret` programs must then return).
    package func verify(contextSize: Int = 256, hostBTF: BTF?, overrideRange: ClosedRange<Int64>?,
                        options: VerifierOptions = VerifierOptions()) throws(VerifierError) -> VerifiedProgram
    {
        var environment = try verificationEnvironment(contextSize: contextSize, hostBTF: hostBTF)
        environment.overrideRange = overrideRange
        var verified = try Verifier(options: options).verify(linked, in: environment)
        verified.loaded = self
        // The interpreter makes host-structure loads fault-safe only in checked mode, so a
        // program that has them may not be entered unchecked by another's tail call.
        if verified.hostLoads.isEmpty { proofs.record(environment.provenContext) }
        return verified
    }
}

extension VerifiedProgram {
    /// Runs the program as `LoadedProgram.testRun` does, unchecked: the verifier proved every
    /// run over a context of the verified size safe. (Loads through host-structure pointers
    /// must read 0 where the address does not; until the interpreter performs such loads
    /// fault-safe, a program that has them runs checked.)
    public func testRun(input: [UInt8]) throws(TestRunError) -> (result: UInt64, output: [UInt8]) {
        guard let loaded else { preconditionFailure("testRun needs a program of a loaded object") }
        try environment.checkTestRunInput(input)
        return try loaded.testRun(input: input, checked: !hostLoads.isEmpty)
    }
}

extension VerificationEnvironment {
    /// What the program was proven safe for, as engines compare it when a tail call is about to
    /// run another program unchecked.
    package var provenContext: ProvenContext {
        let layout: ProvenContext.Layout = switch context {
        case .memory(let size, let lengthInR2): .memory(size: size, lengthInR2: lengthInR2)
        case .xdp: .xdp
        case .hookArguments(let hook): .hookArguments(hook: hook.name, btf: hook.btf.identity)
        }
        return ProvenContext(kind: kind, layout: layout)
    }

    /// Checks that a test run's input is a context the program was verified for: memory at
    /// least as large, or hook argument slots holding values of their types (the verifier
    /// relied on both). Every engine that runs a verified program unchecked asks this first.
    package func checkTestRunInput(_ input: [UInt8]) throws(TestRunError) {
        switch context {
        case .memory(let verifiedSize, _):
            if input.count < verifiedSize { throw .contextTooSmall(given: input.count, verified: verifiedSize) }
        case .hookArguments(let hook):
            let slots = hook.parameters.count + (hasReturnSlot ? 1 : 0)
            guard input.count >= slots * 8 else { throw .contextTooSmall(given: input.count, verified: slots * 8) }
            for slot in 0..<slots {
                let value = input[(slot * 8)..<(slot * 8 + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                guard Verifier.slotRange(hook, slot: slot, kind: kind).contains(value: value) else {
                    throw .invalidArgument(slot: slot, value: value)
                }
            }
        case .xdp:
            break
        }
    }
}
