/// A place in the code that branches, calls and RIP-relative operands refer to. Made by
/// `X86Assembler.newLabel()`, placed by `bind(_:)`.
package struct Label: Hashable, Sendable {
    let id: Int32
}

/// An x86-64 assembler: named instructions (see `X86Assembler+Instructions.swift`) appended to
/// a buffer, labels, and branches whose size (rel8 or rel32) is chosen when the code is laid
/// out, as short as the distance allows.
///
/// Everything but branches to labels is encoded as it is appended. A branch is kept aside as a
/// record at its position; `layout()` then decides every branch's size (starting from the short
/// form and growing only those that do not reach, until nothing changes) and `encode` writes
/// the final bytes with every displacement and RIP-relative field filled in. A jump to the
/// very next instruction takes no bytes at all.
package struct X86Assembler {
    /// The bytes of everything but branches.
    private(set) var bytes: [UInt8] = []
    private var branches: [Branch] = []
    /// Where each label was bound (nil until it is).
    private var labels: [Position?] = []
    /// 32-bit fields inside `bytes` to fill in once the layout is known.
    private var fixups: [Fixup] = []

    /// A position in the code: a byte offset into `bytes` and how many branches precede it.
    package struct Position: Hashable, Sendable {
        var byte: Int32
        var branchesBefore: Int32
    }

    private struct Branch {
        var position: Position
        /// nil for an unconditional `jmp`.
        var condition: ConditionCode?
        var target: Label
    }

    private struct Fixup {
        /// Where the 32-bit field starts; the displacement counts from its end.
        var position: Position
        var target: Target
        enum Target {
            case label(Label)
            case absolute(UInt64)
        }
    }

    package init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// The current position (where the next instruction goes).
    package var position: Position { Position(byte: Int32(bytes.count), branchesBefore: Int32(branches.count)) }

    /// A new, unbound label.
    package mutating func newLabel() -> Label {
        labels.append(nil)
        return Label(id: Int32(labels.count - 1))
    }

    /// Places `label` at the current position (once).
    package mutating func bind(_ label: Label) {
        precondition(labels[Int(label.id)] == nil, "label bound twice")
        labels[Int(label.id)] = position
    }

    // MARK: Encoding primitives

    @inline(__always) mutating func byte(_ value: UInt8) { bytes.append(value) }

    @inline(__always) mutating func int32(_ value: Int32) {
        let bits = UInt32(bitPattern: value)
        bytes.append(UInt8(truncatingIfNeeded: bits))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
    }

    @inline(__always) mutating func int16(_ value: Int16) {
        let bits = UInt16(bitPattern: value)
        bytes.append(UInt8(truncatingIfNeeded: bits))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
    }

    @inline(__always) mutating func int64(_ value: UInt64) {
        for shift in stride(from: UInt64(0), to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// The register or memory operand of a ModRM byte (`r/m`).
    package enum Operand: Hashable, Sendable {
        case register(X86Register)
        case memory(MemoryOperand)
        /// `[rip + label]`: only for instructions without an immediate after the displacement.
        case label(Label)
    }

    /// The opcode map an opcode byte belongs to.
    enum OpcodeMap {
        case primary, twoByte, threeByte38
    }

    /// Appends one instruction: prefixes (`lock`, 0x66), REX (when any of its bits is needed,
    /// or when a byte operand names `spl`/`bpl`/`sil`/`dil`), the opcode, ModRM, SIB and
    /// displacement. `reg` is a register number or an opcode extension (`/digit`); `byteReg`
    /// and `byteRM` say which operands are byte registers. Immediates follow.
    @inline(__always)
    mutating func instruction(_ opcode: UInt8, map: OpcodeMap = .primary, size: OperandSize, reg: UInt8,
                              _ rm: Operand, lock: Bool = false, byteReg: Bool = false, byteRM: Bool? = nil)
    {
        if lock { byte(0xf0) }
        if size == .word { byte(0x66) }
        var rex: UInt8 = size == .qword ? 0x48 : 0
        if reg >= 8 { rex |= 0x44 }
        if byteReg && reg >= 4 && reg <= 7 { rex |= 0x40 }
        switch rm {
        case .register(let r):
            if r.isExtended { rex |= 0x41 }
            if (byteRM ?? (size == .byte)) && r.needsREXAsByte { rex |= 0x40 }
        case .memory(let m):
            if m.base.isExtended { rex |= 0x41 }
            if let index = m.index, index.isExtended { rex |= 0x42 }
        case .label:
            break
        }
        if rex != 0 { byte(rex) }
        switch map {
        case .primary: break
        case .twoByte: byte(0x0f)
        case .threeByte38: byte(0x0f); byte(0x38)
        }
        byte(opcode)
        modRM(reg: reg & 7, rm)
    }

    /// ModRM, SIB and displacement for `rm` with the given `reg` field.
    @inline(__always)
    mutating func modRM(reg: UInt8, _ rm: Operand) {
        switch rm {
        case .register(let r):
            byte(0xc0 | reg << 3 | r.low3)
        case .label(let label):
            byte(reg << 3 | 0x05)
            fixups.append(Fixup(position: position, target: .label(label)))
            int32(0)
        case .memory(let m):
            let displacement = m.displacement
            // rbp and r13 as a base have no form without a displacement.
            let mod: UInt8 = displacement == 0 && m.base.low3 != 5 ? 0x00 : (Int8(exactly: displacement) != nil ? 0x40 : 0x80)
            if let index = m.index {
                byte(mod | reg << 3 | 0x04)
                let scaleBits: UInt8 = switch m.scale { case 1: 0; case 2: 1; case 4: 2; default: 3 }
                byte(scaleBits << 6 | index.low3 << 3 | m.base.low3)
            } else if m.base.low3 == 4 {
                // rsp and r12 as a base need a SIB byte (no index).
                byte(mod | reg << 3 | 0x04)
                byte(0x24)
            } else {
                byte(mod | reg << 3 | m.base.low3)
            }
            if mod == 0x40 { byte(UInt8(bitPattern: Int8(displacement))) } else if mod == 0x80 { int32(displacement) }
        }
    }

    // MARK: Branches and fixups

    /// A branch to `label`: `jmp` when `condition` is nil, else `jcc`. Its size is decided by `layout()`.
    mutating func branch(_ condition: ConditionCode?, to label: Label) {
        branches.append(Branch(position: position, condition: condition, target: label))
    }

    /// A 32-bit field, relative to its own end, holding the distance to an absolute address.
    mutating func relative32(toAbsolute address: UInt64) {
        fixups.append(Fixup(position: position, target: .absolute(address)))
        int32(0)
    }

    /// A 32-bit field, relative to its own end, holding the distance to `label`.
    mutating func relative32(to label: Label) {
        fixups.append(Fixup(position: position, target: .label(label)))
        int32(0)
    }

    // MARK: Layout and encoding

    /// Where everything ends up: each branch's size and the final offset of every position.
    package struct Layout: Sendable {
        /// Bytes each branch takes (0 for a jump to the next instruction, 2 short, 5 or 6 near).
        fileprivate var sizes: [Int32]
        /// `adjustment[k]`: the bytes the first `k` branches take.
        fileprivate var adjustment: [Int32]
        /// The total size of the code.
        package let size: Int

        /// The final byte offset of `position`.
        @inline(__always)
        package func offset(of position: Position) -> Int {
            Int(position.byte + adjustment[Int(position.branchesBefore)])
        }
    }

    /// Decides every branch's size: short first, near for those a short one does not reach,
    /// repeated until nothing changes (sizes only grow, so this ends). A `jmp` to the position
    /// right after it (nothing but itself in between) takes no bytes.
    package func layout() -> Layout {
        precondition(branches.allSatisfy { labels[Int($0.target.id)] != nil }, "a branch targets an unbound label")
        let count = branches.count
        var sizes = [Int32](repeating: 2, count: count)
        for (index, branch) in branches.enumerated() where branch.condition == nil {
            let target = labels[Int(branch.target.id)]!
            if target.byte == branch.position.byte && Int(target.branchesBefore) == index + 1 { sizes[index] = 0 }
        }
        var adjustment = [Int32](repeating: 0, count: count + 1)
        while true {
            for index in 0..<count { adjustment[index + 1] = adjustment[index] + sizes[index] }
            var changed = false
            for index in 0..<count where sizes[index] == 2 {
                let branch = branches[index]
                let end = branch.position.byte + adjustment[index] + 2
                let target = labels[Int(branch.target.id)]!
                let distance = target.byte + adjustment[Int(target.branchesBefore)] - end
                if distance < -128 || distance > 127 {
                    sizes[index] = branch.condition == nil ? 5 : 6
                    changed = true
                }
            }
            if !changed { break }
        }
        return Layout(sizes: sizes, adjustment: adjustment, size: bytes.count + Int(adjustment[count]))
    }

    /// Why the code cannot be encoded at an address.
    package enum EncodingError: Error, Hashable, Sendable {
        /// A call or RIP-relative field cannot reach `target` from `base` with 32 bits.
        case outOfReach(target: UInt64, base: UInt64)
    }

    /// Writes the code as `layout` places it into `output` (at least `layout.size` bytes), for
    /// execution at address `base`.
    package func encode(_ layout: Layout, into output: UnsafeMutableRawPointer, base: UInt64) throws(EncodingError) {
        var written = 0
        var copied = 0
        bytes.withUnsafeBytes { source in
            for (index, branch) in branches.enumerated() {
                let upTo = Int(branch.position.byte)
                if upTo > copied {
                    (output + written).copyMemory(from: source.baseAddress! + copied, byteCount: upTo - copied)
                    written += upTo - copied
                    copied = upTo
                }
                let size = Int(layout.sizes[index])
                if size == 0 { continue }
                let target = layout.offset(of: labels[Int(branch.target.id)]!)
                let distance = Int32(target - (written + size))
                let out = (output + written).assumingMemoryBound(to: UInt8.self)
                switch (branch.condition, size) {
                case (nil, 2):
                    out[0] = 0xeb
                    out[1] = UInt8(bitPattern: Int8(distance))
                case (let condition?, 2):
                    out[0] = 0x70 | condition.rawValue
                    out[1] = UInt8(bitPattern: Int8(distance))
                case (nil, _):
                    out[0] = 0xe9
                    storeInt32(distance, at: out + 1)
                case (let condition?, _):
                    out[0] = 0x0f
                    out[1] = 0x80 | condition.rawValue
                    storeInt32(distance, at: out + 2)
                }
                written += size
            }
            if bytes.count > copied {
                (output + written).copyMemory(from: source.baseAddress! + copied, byteCount: bytes.count - copied)
            }
        }
        for fixup in fixups {
            let field = layout.offset(of: fixup.position)
            let end = Int64(field + 4)
            let distance: Int64
            switch fixup.target {
            case .label(let label):
                distance = Int64(layout.offset(of: labels[Int(label.id)]!)) - end
            case .absolute(let address):
                distance = Int64(bitPattern: address &- (base &+ UInt64(end)))
                guard let _ = Int32(exactly: distance) else { throw .outOfReach(target: address, base: base) }
            }
            storeInt32(Int32(truncatingIfNeeded: distance), at: (output + field).assumingMemoryBound(to: UInt8.self))
        }
    }

    /// The code laid out and encoded for address `base` (for tests and dumps).
    package func assembled(base: UInt64 = 0) throws(EncodingError) -> [UInt8] {
        let layout = layout()
        var result = [UInt8](repeating: 0, count: layout.size)
        let outcome = result.withUnsafeMutableBytes { buffer in
            Result { () throws(EncodingError) in
                if let address = buffer.baseAddress { try encode(layout, into: address, base: base) }
            }
        }
        try outcome.get()
        return result
    }
}

@inline(__always)
private func storeInt32(_ value: Int32, at pointer: UnsafeMutablePointer<UInt8>) {
    let bits = UInt32(bitPattern: value)
    pointer[0] = UInt8(truncatingIfNeeded: bits)
    pointer[1] = UInt8(truncatingIfNeeded: bits >> 8)
    pointer[2] = UInt8(truncatingIfNeeded: bits >> 16)
    pointer[3] = UInt8(truncatingIfNeeded: bits >> 24)
}
