/// Links one entry program of an object into a self-contained `Program`, as libbpf does: every
/// subprogram it reaches (bpf-to-bpf calls and callback addresses, transitively) is appended once,
/// in depth-first order of first reference; call and callback offsets are rewritten; `lddw`
/// relocations against maps and global data become map references by index (`src` 5 and 6, the
/// index into `metadata.maps`); function and line info are rebased onto the linked indices; and
/// CO-RE relocations are applied against a target BTF.
public enum Linker {
    /// Links the entry program `name` of `object`. CO-RE relocations resolve against `targetBTF`,
    /// or the object's own BTF when it is nil (which leaves the compiled-in values).
    public static func link(_ object: Object, program name: String, targetBTF: BTF? = nil) throws(ObjectError)
        -> Program
    {
        try link(object, program: name, target: targetBTF.map(CORETarget.init))
    }

    /// Links the entry program `name` of `object`, resolving CO-RE relocations against `target`
    /// (build it once to link many programs against one large BTF).
    public static func link(_ object: Object, program name: String, target: CORETarget?) throws(ObjectError)
        -> Program
    {
        var linker = Session(object: object, entry: try object.program(named: name), coreTarget: target)
        return try linker.run()
    }

    /// Why an `lddw` whose `src` names a pseudo form (map, map value, BTF variable or function) but
    /// that no relocation produced is refused.
    static func unrelocatedLoad(src: UInt8) -> String {
        let name = pseudoSourceNames[Int(src)].map { " (\($0))" } ?? ""
        return "lddw with src \(src)\(name) has no relocation; map, global-data and function references come only"
            + " from relocations, and a plain 64-bit constant has src 0"
    }

    /// The kernel's names of the `lddw` pseudo sources, by `src` (nil for 0 and unknown values).
    static let pseudoSourceNames: [String?] = [
        nil, "BPF_PSEUDO_MAP_FD", "BPF_PSEUDO_MAP_VALUE", "BPF_PSEUDO_BTF_ID", "BPF_PSEUDO_FUNC",
        "BPF_PSEUDO_MAP_IDX", "BPF_PSEUDO_MAP_IDX_VALUE", nil, nil, nil, nil, nil, nil, nil, nil, nil,
    ]

    /// A function of the object: a FUNC symbol's range in an executable section, in slots.
    struct Function: Hashable {
        let name: String
        let sectionIndex: Int
        let start: Int
        let count: Int
        var key: FunctionKey { FunctionKey(sectionIndex: sectionIndex, start: start) }
    }

    struct FunctionKey: Hashable {
        let sectionIndex: Int
        let start: Int
    }

    /// The state of one linking run.
    struct Session {
        let object: Object
        let entry: ProgramEntry
        let coreTarget: CORETarget?
        /// Per executable section: its slots and its functions sorted by start.
        var slotsBySection: [Int: [Instruction]] = [:]
        var functionsBySection: [Int: [Function]] = [:]
        var relocationsBySection: [Int: [Int: ELFRelocation]] = [:]
        var output: [Instruction] = []
        var placed: [FunctionKey: Int] = [:]
        var order: [Function] = []
        var mapNames: [String] = []
        var poisoned: [PoisonedInstruction] = []

        init(object: Object, entry: ProgramEntry, coreTarget: CORETarget?) {
            self.object = object
            self.entry = entry
            self.coreTarget = coreTarget
        }

        /// Slices the executable section `index` into instructions and finds its functions, the first time the
        /// program reaches into it: sections the program never reaches cannot fail its linking.
        mutating func prepare(section index: Int) throws(ObjectError) {
            guard slotsBySection[index] == nil else { return }
            let elf = object.elf
            guard elf.sections.indices.contains(index), elf.sections[index].isExecutable else { return }
            let section = elf.sections[index]
            let data = elf.data(of: section)
            guard let slots = Instruction.slots(fromBytes: data) else {
                throw .link(program: entry.name, instruction: 0,
                            reason: "section '\(section.name)' is \(data.count) bytes, not a whole number of instructions")
            }
            slotsBySection[section.index] = slots
            var relocations: [Int: ELFRelocation] = [:]
            for relocation in elf.relocations(for: section) { relocations[Int(relocation.offset)] = relocation }
            relocationsBySection[section.index] = relocations
            let symbols = elf.symbols
                .filter { $0.sectionIndex == section.index && $0.type == .function }
                .sorted { $0.value < $1.value }
            var functions: [Function] = []
            // Symbol values and sizes are raw 64-bit numbers: compare them in UInt64 against the section's
            // size before any becomes an Int.
            let sectionSize = UInt64(data.count)
            for (position, symbol) in symbols.enumerated() {
                let start = symbol.value
                let end: UInt64
                if symbol.size > 0 {
                    let (sum, overflow) = start.addingReportingOverflow(symbol.size)
                    end = overflow ? sectionSize : min(sum, sectionSize)
                } else {
                    end = min(position + 1 < symbols.count ? symbols[position + 1].value : sectionSize, sectionSize)
                }
                guard start % 8 == 0, end % 8 == 0, start < end else {
                    throw .link(program: entry.name, instruction: 0,
                                reason: "function '\(symbol.name)' has a bad range \(start)..<\(end) in '\(section.name)'")
                }
                functions.append(Function(name: symbol.name, sectionIndex: section.index, start: Int(start / 8),
                                          count: Int((end - start) / 8)))
            }
            functionsBySection[section.index] = functions
        }

        mutating func run() throws(ObjectError) -> Program {
            try prepare(section: entry.sectionIndex)
            guard let function = functionsBySection[entry.sectionIndex]?.first(where: { $0.start == entry.offset / 8 })
            else {
                throw .link(program: entry.name, instruction: 0, reason: "no function symbol at the program's start")
            }
            try place(function)
            if let btf = object.btf, let ext = object.btfExt {
                try applyCORE(btf: btf, ext: ext)
            }
            let metadata = ProgramMetadata(
                name: entry.name, section: entry.section, kind: entry.kind, license: object.license,
                functions: functionInfo(), lines: lineInfo(), maps: mapNames,
                poisoned: poisoned.sorted { $0.instructionIndex < $1.instructionIndex })
            do {
                return try Program(instructions: output, metadata: metadata)
            } catch {
                throw .invalidInstructions(program: entry.name, error)
            }
        }

        /// Appends `function`, then (depth first) every function it reaches, patching as it goes.
        mutating func place(_ function: Function) throws(ObjectError) {
            let base = output.count
            placed[function.key] = base
            order.append(function)
            let slots = slotsBySection[function.sectionIndex]!
            output += slots[function.start..<(function.start + function.count)]
            let relocations = relocationsBySection[function.sectionIndex] ?? [:]
            var local = 0
            while local < function.count {
                let sectionSlot = function.start + local
                let linked = base + local
                let insn = output[linked]
                let relocation = relocations[sectionSlot * 8]
                if insn.opcode == Opcode.lddw {
                    guard local + 1 < function.count else {
                        throw .link(program: entry.name, instruction: linked, reason: "lddw is cut off by the function's end")
                    }
                    if let relocation {
                        try resolveLoad(relocation, at: linked, sectionIndex: function.sectionIndex)
                    } else if insn.src != 0 {
                        // libbpf makes map, global-data and function references only from relocations; a
                        // pseudo form already in the object would make the binder follow an index nobody checked.
                        throw .link(program: entry.name, instruction: linked, reason: Linker.unrelocatedLoad(src: insn.src))
                    }
                    local += 2
                    continue
                }
                if insn.opcode == 0x85 && insn.src == 1 {
                    let targetSection: Int
                    let targetSlot: Int
                    if let relocation {
                        guard relocation.type == 10 else {
                            throw .link(program: entry.name, instruction: linked,
                                        reason: "relocation type \(relocation.type) on a call (expected R_BPF_64_32)")
                        }
                        let symbol = try self.symbol(relocation, at: linked)
                        if symbol.sectionIndex == ELFSymbol.undefinedSection {
                            try callExtern(symbol, at: linked)
                            local += 1
                            continue
                        }
                        targetSection = symbol.sectionIndex
                        targetSlot = Int(symbol.value / 8) + Int(insn.imm) + 1
                    } else {
                        targetSection = function.sectionIndex
                        targetSlot = sectionSlot + Int(insn.imm) + 1
                    }
                    let target = try linkedIndex(ofSlot: targetSlot, inSection: targetSection, from: linked)
                    output[linked].imm = Int32(target - linked - 1)
                } else if let relocation {
                    throw .link(program: entry.name, instruction: linked,
                                reason: "relocation type \(relocation.type) on an instruction that is neither lddw nor a call")
                }
                local += 1
            }
        }

        /// The linked index of `slot` of section `sectionIndex`, placing the function that holds it if needed.
        mutating func linkedIndex(ofSlot slot: Int, inSection sectionIndex: Int, from linked: Int) throws(ObjectError)
            -> Int
        {
            try prepare(section: sectionIndex)
            guard let function = functionsBySection[sectionIndex]?.first(where: {
                slot >= $0.start && slot < $0.start + $0.count
            }) else {
                let name = sectionIndex < object.elf.sections.count ? object.elf.sections[sectionIndex].name : "#\(sectionIndex)"
                throw .link(program: entry.name, instruction: linked,
                            reason: "call or function address targets instruction \(slot) of '\(name)', which is in no function")
            }
            if placed[function.key] == nil { try place(function) }
            return placed[function.key]! + (slot - function.start)
        }

        func symbol(_ relocation: ELFRelocation, at linked: Int) throws(ObjectError) -> ELFSymbol {
            guard relocation.symbolIndex < object.elf.symbols.count else {
                throw .link(program: entry.name, instruction: linked, reason: "relocation names symbol #\(relocation.symbolIndex), which does not exist")
            }
            return object.elf.symbols[relocation.symbolIndex]
        }

        mutating func mapIndex(_ name: String) -> Int32 {
            if let index = mapNames.firstIndex(of: name) { return Int32(index) }
            mapNames.append(name)
            return Int32(mapNames.count - 1)
        }

        /// Resolves an `lddw` relocation: a map, a global variable, or a function address.
        mutating func resolveLoad(_ relocation: ELFRelocation, at linked: Int, sectionIndex: Int) throws(ObjectError) {
            guard relocation.type == 1 else {
                throw .link(program: entry.name, instruction: linked,
                            reason: "relocation type \(relocation.type) on lddw (expected R_BPF_64_64)")
            }
            let symbol = try self.symbol(relocation, at: linked)
            if symbol.sectionIndex == ELFSymbol.undefinedSection {
                try loadExtern(symbol, at: linked)
                return
            }
            let elf = object.elf
            let sections = elf.sections
            guard symbol.sectionIndex < sections.count else {
                throw .link(program: entry.name, instruction: linked,
                            reason: "lddw refers to '\(symbol.name)', which is in no section (section index"
                                + " 0x\(String(symbol.sectionIndex, radix: 16)))")
            }
            let target = sections[symbol.sectionIndex]
            let imm = Int(output[linked].imm)
            // The symbol's value as an offset into its section (symbols past any section end get no further).
            guard symbol.value <= UInt64(target.size) else {
                throw .link(program: entry.name, instruction: linked,
                            reason: "lddw refers to '\(symbol.name)' at offset \(symbol.value), past the end of section"
                                + " '\(target.name)' (\(target.size) bytes)")
            }
            let symbolOffset = Int(symbol.value)
            if target.name == ".maps" || target.name == "maps" {
                guard let map = object.maps.first(where: {
                    $0.sectionIndex == symbol.sectionIndex && $0.symbolOffset == symbolOffset
                }) else {
                    throw .link(program: entry.name, instruction: linked,
                                reason: "no map at '\(target.name)'+\(symbol.value)")
                }
                output[linked].registers = (output[linked].registers & 0x0f) | (LoadImmediateKind.mapByIndex.rawValue << 4)
                output[linked].imm = mapIndex(map.name)
                output[linked + 1].imm = 0
            } else if let data = object.globalData.first(where: { $0.sectionIndex == symbol.sectionIndex }) {
                let offset = imm + symbolOffset
                guard offset >= 0 && offset <= data.initialBytes.count else {
                    throw .link(program: entry.name, instruction: linked,
                                reason: "offset \(offset) is outside '\(data.sectionName)' (\(data.initialBytes.count) bytes)")
                }
                output[linked].registers = (output[linked].registers & 0x0f)
                    | (LoadImmediateKind.mapValueByIndex.rawValue << 4)
                output[linked].imm = mapIndex(data.mapName)
                output[linked + 1].imm = Int32(offset)
            } else if target.isExecutable {
                let byteOffset = symbolOffset + imm
                guard byteOffset % 8 == 0 else {
                    throw .link(program: entry.name, instruction: linked, reason: "function address \(byteOffset) is not instruction-aligned")
                }
                let targetIndex = try linkedIndex(ofSlot: byteOffset / 8, inSection: symbol.sectionIndex, from: linked)
                output[linked].registers = (output[linked].registers & 0x0f) | (LoadImmediateKind.codeAddress.rawValue << 4)
                output[linked].imm = Int32(targetIndex - linked - 1)
                output[linked + 1].imm = 0
            } else {
                throw .link(program: entry.name, instruction: linked,
                            reason: "lddw refers to '\(symbol.name)' in section '\(target.name)', which is neither a map, global data nor code")
            }
        }

        func functionInfo() -> [FunctionInfo] {
            var infos: [FunctionInfo] = []
            for function in order {
                let section = object.elf.sections[function.sectionIndex].name
                let typeID = object.btfExt?.functionInfo[section]?
                    .first(where: { $0.instructionOffset == function.start * 8 })?.typeID ?? 0
                infos.append(FunctionInfo(name: function.name, instructionIndex: placed[function.key]!, typeID: typeID))
            }
            return infos
        }

        func lineInfo() -> [LineInfo] {
            guard let ext = object.btfExt else { return [] }
            var lines: [LineInfo] = []
            for function in order {
                let section = object.elf.sections[function.sectionIndex].name
                let base = placed[function.key]!
                for record in ext.lineInfo[section] ?? [] {
                    let slot = record.instructionOffset / 8
                    guard record.instructionOffset % 8 == 0, slot >= function.start,
                          slot < function.start + function.count else { continue }
                    lines.append(LineInfo(instructionIndex: base + slot - function.start, fileName: record.fileName,
                                          source: record.line, lineNumber: record.lineNumber, column: record.column))
                }
            }
            return lines
        }
    }
}
