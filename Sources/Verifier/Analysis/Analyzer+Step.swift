import BPFVM

extension Analyzer {
    /// Executes `operation` abstractly. Returns whether the path goes on (at `state.pc`); the
    /// other edges of undecided branches and calls are appended to `forks`.
    func step(_ operation: Operation, at pc: Int, _ state: inout AbstractState, forks: inout [AbstractState])
        throws(VerifierError) -> Bool
    {
        let next = pc + operation.slotCount
        switch operation {
        case let .alu(op, width, dst, source):
            try checkWritable(dst, at: pc)
            let right: Value
            switch source {
            case .register(let src): right = try read(src, state, at: pc)
            case .immediate(let imm):
                right = .constant(width == .bits64 ? UInt64(bitPattern: Int64(imm)) : UInt64(UInt32(bitPattern: imm)))
            }
            let left = op == .mov ? Value.uninitialized : try read(dst, state, at: pc)
            // Pointer arithmetic: where the pointer lands depends on the number's value.
            if op != .mov && left.isScalar != right.isScalar { markOperandsPrecise(dst, source, in: state) }
            state[Int(dst.rawValue)] = try arithmetic(op, width, dst: Int(dst.rawValue), left, right, &state, at: pc)
            state.pc = next

        case let .negate(width, dst):
            try checkWritable(dst, at: pc)
            let value = try read(dst, state, at: pc)
            guard value.isScalar else {
                throw VerifierError(.pointerArithmeticOn(register: Int(dst.rawValue), type: value.typeName), at: pc)
            }
            state[Int(dst.rawValue)] = .scalar(value.scalar.negated(width: width))
            state.pc = next

        case let .moveSignExtend(width, dst, src, bits):
            try checkWritable(dst, at: pc)
            let value = try read(src, state, at: pc)
            guard value.isScalar else {
                throw VerifierError(.invalidStore("R\(src.rawValue) sign-extension of a pointer"), at: pc)
            }
            state[Int(dst.rawValue)] = .scalar(value.scalar.signExtended(from: bits, width: width))
            state.pc = next

        case let .byteSwap(kind, dst, bits):
            try checkWritable(dst, at: pc)
            let value = try read(dst, state, at: pc)
            guard value.isScalar else {
                throw VerifierError(.pointerArithmeticOn(register: Int(dst.rawValue), type: value.typeName), at: pc)
            }
            state[Int(dst.rawValue)] = .scalar(value.scalar.swapped(kind, bits: bits))
            state.pc = next

        case let .loadImmediate64(kind, dst, value):
            try checkWritable(dst, at: pc)
            let result: Value
            switch kind {
            case .immediate: result = .constant(value)
            case .mapByIndex: result = .pointer(.map(Int(UInt32(truncatingIfNeeded: value))))
            case .mapValueByIndex:
                let map = Int(UInt32(truncatingIfNeeded: value))
                result = .pointer(.mapValue(map), offset: Int64(value >> 32))
            case .codeAddress: result = .pointer(.function(pc + 1 + Int(Int32(truncatingIfNeeded: value))))
            default: throw VerifierError(.unresolvedLoadImmediate, at: pc)
            }
            state[Int(dst.rawValue)] = result
            state.pc = next

        case let .load(size, dst, src, offset, signExtend):
            try checkWritable(dst, at: pc)
            let base = try read(src, state, at: pc)
            var loaded = try access(base, register: Int(src.rawValue), offset: Int64(offset), size: size.byteCount,
                                    .read, &state, at: pc)
            if signExtend, loaded.isScalar, size != .doubleWord {
                loaded = .scalar(loaded.scalar.signExtended(from: size.byteCount * 8, width: .bits64))
            }
            state[Int(dst.rawValue)] = loaded
            state.pc = next

        case let .storeImmediate(size, dst, offset, value):
            let base = try read(dst, state, at: pc)
            let stored = Value.constant(UInt64(bitPattern: Int64(value)))
            _ = try access(base, register: Int(dst.rawValue), offset: Int64(offset), size: size.byteCount,
                           .write(stored, immediate: true), &state, at: pc)
            state.pc = next

        case let .store(size, dst, src, offset):
            let base = try read(dst, state, at: pc)
            let stored = try read(src, state, at: pc)
            _ = try access(base, register: Int(dst.rawValue), offset: Int64(offset), size: size.byteCount,
                           .write(stored, immediate: false), &state, at: pc)
            // A zero stored as plain bytes makes them zero bytes, which pruning tells from other
            // bytes: that depends on the number (a spill keeps the number itself).
            if stored.isZero, let address = stackAddress, address.byte != 0 { markPrecise(src, in: state) }
            state.pc = next

        case let .atomic(op, fetch, size, dst, src, offset):
            let base = try read(dst, state, at: pc)
            let operand = try read(src, state, at: pc)
            if op == .cmpxchg { _ = try read(.r0, state, at: pc) }
            guard operand.isScalar else {
                throw VerifierError(.pointerLeak(register: Int(src.rawValue), into: "into memory by an atomic"), at: pc)
            }
            if op == .cmpxchg, !state[0].isScalar {
                throw VerifierError(.pointerLeak(register: 0, into: "into memory by an atomic"), at: pc)
            }
            _ = try access(base, register: Int(dst.rawValue), offset: Int64(offset), size: size.byteCount, .atomic,
                           &state, at: pc)
            let old = Value.scalar(.unsigned(bytes: size.byteCount))
            if op == .cmpxchg { state[0] = old } else if fetch || op == .xchg { state[Int(src.rawValue)] = old }
            state.pc = next

        case .jump(let offset):
            state.pc = pc + 1 + Int(offset)
        case .jumpLong(let offset):
            state.pc = pc + 1 + Int(offset)

        case let .branch(condition, width, dst, source, offset):
            return try branch(condition, width, dst: dst, source: source, target: pc + 1 + Int(offset), next: next,
                              &state, forks: &forks, at: pc)

        case .call(let target):
            return try call(target, &state, forks: &forks, at: pc)

        case .exit:
            return try exit(&state, forks: &forks, at: pc)
        }
        return true
    }

    /// The value of `register`, which must have been written.
    func read(_ register: Register, _ state: AbstractState, at pc: Int) throws(VerifierError) -> Value {
        let value = state[Int(register.rawValue)]
        guard value.isInitialized else { throw VerifierError(.registerNotReadable(Int(register.rawValue)), at: pc) }
        return value
    }

    func checkWritable(_ register: Register, at pc: Int) throws(VerifierError) {
        if register == .r10 { throw VerifierError(.framePointerReadOnly, at: pc) }
    }

    // MARK: - ALU

    /// `left OP right` at `width`, with the kernel's pointer arithmetic rules.
    private func arithmetic(_ op: ALUOperation, _ width: OperandWidth, dst: Int, _ left: Value, _ right: Value,
                            _ state: inout AbstractState, at pc: Int) throws(VerifierError) -> Value
    {
        if op == .mov {
            if width == .bits64 || right.isScalar {
                return width == .bits64 ? right : .scalar(right.scalar.zeroExtended32)
            }
            throw VerifierError(.invalidStore("R\(dst) partial copy of pointer"), at: pc)
        }
        if left.isScalar && right.isScalar {
            return .scalar(left.scalar.applying(op, right.scalar, width: width))
        }
        // Pointer arithmetic: only 64-bit += and -= with a scalar, and pointer - pointer.
        if width == .bits32 { throw VerifierError(.pointerArithmetic32(register: dst), at: pc) }
        switch op {
        case .add, .sub: break
        case .and, .or, .xor:
            throw VerifierError(.invalidStore("R\(dst) bitwise operator \(Self.operatorText(op)) on pointer prohibited"), at: pc)
        default:
            throw VerifierError(.pointerArithmetic(register: dst, operation: Self.operatorText(op)), at: pc)
        }
        if !left.isScalar && !right.isScalar {
            guard op == .sub, left.pointerKind == right.pointerKind, !left.maybeNull, !right.maybeNull else {
                throw VerifierError(.invalidStore("R\(dst) pointer \(Self.operatorText(op)) pointer prohibited"), at: pc)
            }
            return .unknownScalar
        }
        if op == .sub && left.isScalar {
            throw VerifierError(.invalidStore("R\(dst) tried to subtract pointer from scalar"), at: pc)
        }
        var pointer = left.isScalar ? right : left
        let scalar = left.isScalar ? left.scalar : right.scalar
        if pointer.maybeNull {
            throw VerifierError(.pointerArithmeticOnNullable(register: dst, type: pointer.typeName), at: pc)
        }
        switch pointer.pointerKind! {
        case .map, .packetEnd, .function:
            throw VerifierError(.pointerArithmeticOn(register: dst, type: pointer.typeName), at: pc)
        case .stack where op == .sub:
            throw VerifierError(.invalidStore("R\(dst) subtraction from stack pointer prohibited"), at: pc)
        default: break
        }
        try checkSaneOffset(scalar, of: pointer, at: pc)
        if let constant = scalar.constantValue {
            let delta = Int64(bitPattern: constant)
            let (offset, overflow) = op == .add ? pointer.offset.addingReportingOverflow(delta)
                : pointer.offset.subtractingReportingOverflow(delta)
            guard !overflow, abs(offset) < Self.maximumOffset else {
                throw VerifierError(.invalidStore("R\(dst) pointer offset \(delta) is not allowed"), at: pc)
            }
            pointer.offset = offset
            return pointer
        }
        // A variable offset: kept in the pointer's scalar part, bounded.
        let combined = pointer.scalar.applying(op == .add ? .add : .sub, scalar, width: .bits64)
        pointer.scalar = combined
        if pointer.pointerKind == .packet || pointer.pointerKind == .packetMeta {
            pointer.id = state.freshID()
            pointer.range = 0
        }
        return pointer
    }

    static let maximumOffset: Int64 = 1 << 29

    /// The kernel's check_reg_sane_offset: a number added to (or subtracted from) a pointer, and
    /// the pointer's own variable part, must stay far inside the 2^29 limit of offsets.
    private func checkSaneOffset(_ scalar: Scalar, of pointer: Value, at pc: Int) throws(VerifierError) {
        let type = pointer.typeName
        if let constant = scalar.constantValue {
            let value = Int64(bitPattern: constant)
            guard value < Self.maximumOffset && value > -Self.maximumOffset else {
                throw VerifierError(.invalidStore("math between \(type) pointer and \(value) is not allowed"), at: pc)
            }
        }
        for smin in [scalar.b64.smin, pointer.scalar.b64.smin] {
            if smin == .min {
                throw VerifierError(.invalidStore("math between \(type) pointer and register with unbounded min value is not allowed"), at: pc)
            }
            guard smin < Self.maximumOffset && smin > -Self.maximumOffset else {
                throw VerifierError(.invalidStore("value \(smin) makes \(type) pointer be out of bounds"), at: pc)
            }
        }
    }

    static func operatorText(_ op: ALUOperation) -> String {
        switch op {
        case .add: "+="
        case .sub: "-="
        case .mul: "*="
        case .div: "/="
        case .sdiv: "s/="
        case .or: "|="
        case .and: "&="
        case .lsh: "<<="
        case .rsh: ">>="
        case .mod: "%="
        case .smod: "s%="
        case .xor: "^="
        case .mov: "="
        case .arsh: "s>>="
        }
    }
}
