/// CO-RE (compile once, run everywhere) relocations: an instruction compiled against the object's
/// own ("local") BTF is rewritten with the value the same access has in the target BTF, as
/// libbpf's `bpf_core_apply_relo_insn` does (the computation is `CORE`'s). An instruction whose
/// relocation finds nothing in the target is poisoned, not refused: it fails only if it runs.
extension Linker.Session {
    /// Applies the CO-RE records of every linked function. Without a target the compiled-in
    /// local values already are the answer, so nothing changes.
    mutating func applyCORE(btf: BTF, ext: BTFExt) throws(ObjectError) {
        guard let target = coreTarget else { return }
        for function in order {
            let section = object.elf.sections[function.sectionIndex].name
            for (number, record) in (ext.coreRelocations[section] ?? []).enumerated() {
                let slot = record.instructionOffset / 8
                guard record.instructionOffset % 8 == 0, slot >= function.start, slot < function.start + function.count
                else { continue }
                let linked = placed[function.key]! + slot - function.start
                let resolution: CORE.Resolution
                do {
                    resolution = try CORE.resolve(record, local: btf, target: target)
                } catch {
                    throw .core(program: entry.name, instruction: linked,
                                reason: "relocation #\(number) <\(record.kind.objdumpTag)> of local type"
                                    + " \(record.typeID) access \(record.accessString): \(error.reason)")
                }
                try patch(linked, with: resolution, kind: record.kind, number: number)
            }
        }
    }

    /// Writes a relocation's value into the instruction at `index` (the immediate of an ALU or
    /// `lddw` instruction, the offset of a load or store, whose size follows the field's), after
    /// checking that it holds the value the local BTF gives; or poisons it.
    mutating func patch(_ index: Int, with resolution: CORE.Resolution, kind: BTFCoreRelocationKind, number: Int)
        throws(ObjectError)
    {
        let named = "relocation #\(number) <\(kind.objdumpTag)> \(resolution.local)"
        func failure(_ reason: String) -> ObjectError {
            .core(program: entry.name, instruction: index, reason: "\(named): \(reason)")
        }
        if let reason = resolution.poison {
            poison(index, reason: "CO-RE \(named): \(reason)")
            return
        }
        let insn = output[index]
        let original = resolution.original
        let new = resolution.new
        switch insn.instructionClass {
        case .alu, .alu64:
            guard insn.opcode & Opcode.sourceRegister == 0 else {
                throw failure("an ALU instruction with a register operand cannot be relocated")
            }
            if resolution.validate && UInt64(bitPattern: Int64(insn.imm)) != original {
                throw failure("the instruction holds \(insn.imm), but the local BTF gives \(original)")
            }
            output[index].imm = Int32(truncatingIfNeeded: new)
        case .ldx, .st, .stx:
            if resolution.validate && UInt64(bitPattern: Int64(insn.offset)) != original {
                throw failure("the instruction's offset is \(insn.offset), but the local BTF gives \(original)")
            }
            guard new <= UInt64(Int16.max) else { throw failure("offset \(new) does not fit 16 bits") }
            if resolution.failsSizeAdjustment {
                poison(index, reason: "CO-RE \(named): the field is \(resolution.newSize) bytes in the target and"
                    + " \(resolution.originalSize) locally, and only pointers and unsigned integers can be read at"
                    + " another size")
                return
            }
            output[index].offset = Int16(new)
            if resolution.newSize != resolution.originalSize {
                let sizeBits = insn.opcode & 0x18
                guard Self.accessBytes[Int(sizeBits >> 3)] == resolution.originalSize else {
                    throw failure("the instruction accesses \(Self.accessBytes[Int(sizeBits >> 3)]) bytes, but the"
                        + " local field is \(resolution.originalSize)")
                }
                guard let newBits = Self.accessBytes.firstIndex(of: resolution.newSize) else {
                    throw failure("the target field is \(resolution.newSize) bytes, which no load or store accesses")
                }
                output[index].opcode = insn.opcode & ~0x18 | UInt8(newBits) << 3
            }
        case .ld where insn.opcode == Opcode.lddw:
            // As libbpf, only a plain constant: a map, global or function reference the linker resolved
            // must not be overwritten (the binder and the interpreter follow its immediate).
            guard insn.src == 0, insn.offset == 0, index + 1 < output.count, output[index + 1].opcode == 0,
                  output[index + 1].registers == 0, output[index + 1].offset == 0
            else {
                throw failure("an lddw that is not a plain 64-bit constant"
                    + (insn.src == 0 ? " (its second slot is not empty)" : " (src \(insn.src))"))
            }
            let value = UInt64(UInt32(bitPattern: insn.imm)) | UInt64(UInt32(bitPattern: output[index + 1].imm)) << 32
            if resolution.validate && value != original {
                throw failure("the instruction holds \(value), but the local BTF gives \(original)")
            }
            output[index].imm = Int32(truncatingIfNeeded: new)
            output[index + 1].imm = Int32(truncatingIfNeeded: new >> 32)
        default:
            throw failure("cannot patch opcode 0x\(hex(insn.opcode, width: 2)) for a \(kind.objdumpTag) relocation")
        }
    }

    /// The bytes of each load and store size code (`BPF_W`, `BPF_H`, `BPF_B`, `BPF_DW`).
    static let accessBytes = [4, 2, 1, 8]

    /// Replaces the instruction at `index` (both slots of an `lddw`) with libbpf's poisoned CO-RE
    /// call, and records why.
    mutating func poison(_ index: Int, reason: String, imm: Int32 = PoisonedInstruction.coreImmediate) {
        let indices = output[index].opcode == Opcode.lddw && index + 1 < output.count ? [index, index + 1] : [index]
        for slot in indices {
            output[slot] = PoisonedInstruction.instruction(imm: imm)
            poisoned.append(PoisonedInstruction(instructionIndex: slot, reason: reason))
        }
    }
}
