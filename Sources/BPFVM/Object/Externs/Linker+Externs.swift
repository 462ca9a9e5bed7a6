/// Resolving the references of a program to the object's externs, as libbpf does without a
/// kernel to look symbols up in: `__kconfig` values are read from the `.kconfig` map; a weak
/// `__ksym` variable or kfunc address is 0; a call of a weak kfunc is poisoned (it traps only if
/// it runs, so the usual `if (kfunc) kfunc();` guard works); a strong `__ksym` is an error
/// naming it.
extension Linker.Session {
    /// The extern `symbol` names and its index in the object's extern table.
    func extern(_ symbol: ELFSymbol, at linked: Int) throws(ObjectError) -> (index: Int, extern: ExternDeclaration) {
        guard let index = object.externs.firstIndex(where: { $0.name == symbol.name }) else {
            throw .link(program: entry.name, instruction: linked,
                        reason: "extern '\(symbol.name)' is undefined and not declared __kconfig or __ksym in the BTF")
        }
        let extern = object.externs[index]
        if case .unsupported(let reason) = extern.kind {
            throw .link(program: entry.name, instruction: linked, reason: "extern '\(symbol.name)': \(reason)")
        }
        return (index, extern)
    }

    /// Why a strong `__ksym` the program uses cannot be resolved.
    func unresolvedKernelSymbol(_ extern: ExternDeclaration, at linked: Int, what: String) -> ObjectError {
        .link(program: entry.name, instruction: linked,
              reason: "extern '\(extern.name)' (\(what) __ksym) is not resolved: this runtime has no kernel"
                + " symbols; declare it __weak to read 0 and check it before use")
    }

    /// An `lddw` of extern `symbol`: the address of its `.kconfig` value, or 0 for a weak `__ksym`.
    mutating func loadExtern(_ symbol: ELFSymbol, at linked: Int) throws(ObjectError) {
        let (_, extern) = try extern(symbol, at: linked)
        switch extern.kind {
        case .kernelConfig:
            guard let data = object.globalData.first(where: { $0.sectionIndex == GlobalDataSection.noSection }) else {
                throw .link(program: entry.name, instruction: linked, reason: "the object has no .kconfig map")
            }
            output[linked].registers = (output[linked].registers & 0x0f) | (LoadImmediateKind.mapValueByIndex.rawValue << 4)
            output[linked].imm = mapIndex(data.mapName)
            output[linked + 1].imm = Int32(extern.offset)
        case .kernelSymbol, .kernelFunction:
            guard extern.isWeak else {
                let what = if case .kernelFunction = extern.kind { "function" } else { "variable" }
                throw unresolvedKernelSymbol(extern, at: linked, what: what)
            }
            output[linked].registers &= 0x0f
            output[linked].imm = 0
            output[linked + 1].imm = 0
        case .unsupported:
            preconditionFailure("extern(_:at:) refuses unsupported externs")
        }
    }

    /// A call of extern `symbol`: a weak kfunc's call is poisoned with libbpf's kfunc poison.
    mutating func callExtern(_ symbol: ELFSymbol, at linked: Int) throws(ObjectError) {
        let (index, extern) = try extern(symbol, at: linked)
        guard case .kernelFunction = extern.kind else {
            throw .link(program: entry.name, instruction: linked, reason: "call of extern '\(extern.name)', which is not a function")
        }
        guard extern.isWeak else { throw unresolvedKernelSymbol(extern, at: linked, what: "function") }
        poison(linked, reason: "weak kfunc '\(extern.name)' is not resolved: this runtime has no kernel functions",
               imm: PoisonedInstruction.kfuncImmediateBase + Int32(index))
    }
}
