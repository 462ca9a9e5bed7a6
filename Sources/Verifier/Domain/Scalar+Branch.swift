import BPFVM

/// Conditions after normalisation: the operand order swapped so that only "less" forms remain.
private enum Relation {
    case equal, notEqual, unsignedLess, unsignedLessOrEqual, signedLess, signedLessOrEqual, bitsSet, bitsClear
}

extension Scalar {
    /// Whether `a COND b` holds for every pair of members (true), for none (false), or is
    /// undecided (nil): the kernel's `is_branch_taken`.
    static func evaluate(_ condition: JumpCondition, width: OperandWidth, _ a: Scalar, _ b: Scalar) -> Bool? {
        if let x = a.constantValue(width: width), let y = b.constantValue(width: width) {
            return condition.holds(x, y, width: width)
        }
        let (relation, swap) = normalize(condition, taken: true)
        let (x, y) = swap ? (b, a) : (a, b)
        return width == .bits64 ? decide(relation, x.b64, y.b64, x.tnum, y.tnum)
            : decide(relation, x.b32, y.b32, x.tnum.low32, y.tnum.low32)
    }

    private static func decide<S, U>(_ relation: Relation, _ x: Bounds<S, U>, _ y: Bounds<S, U>,
                                     _ tx: Tnum, _ ty: Tnum) -> Bool?
    {
        switch relation {
        case .equal, .notEqual:
            let disjoint = x.umax < y.umin || y.umax < x.umin || x.smax < y.smin || y.smax < x.smin
                || (tx.value ^ ty.value) & ~tx.mask & ~ty.mask != 0
            guard disjoint else { return nil }
            return relation == .notEqual
        case .unsignedLess:
            if x.umax < y.umin { return true }
            if x.umin >= y.umax { return false }
        case .unsignedLessOrEqual:
            if x.umax <= y.umin { return true }
            if x.umin > y.umax { return false }
        case .signedLess:
            if x.smax < y.smin { return true }
            if x.smin >= y.smax { return false }
        case .signedLessOrEqual:
            if x.smax <= y.smin { return true }
            if x.smin > y.smax { return false }
        case .bitsSet, .bitsClear:
            var result: Bool? = nil
            if tx.value & ty.value != 0 { result = true }
            else if tx.maximum & ty.maximum == 0 { result = false }
            return relation == .bitsSet ? result : result.map(!)
        }
        return nil
    }

    /// The operands refined by knowing that `a COND b` is `taken` (or not), or nil when no
    /// members satisfy it: the kernel's `reg_set_min_max`.
    static func refine(_ condition: JumpCondition, width: OperandWidth, _ a: Scalar, _ b: Scalar, taken: Bool)
        -> (Scalar, Scalar)?
    {
        let (relation, swap) = normalize(condition, taken: taken)
        var (x, y) = swap ? (b, a) : (a, b)
        if width == .bits64 {
            guard refine(relation, &x.b64, &y.b64, &x.tnum, &y.tnum) else { return nil }
        } else {
            var tx = x.tnum.low32, ty = y.tnum.low32
            guard refine(relation, &x.b32, &y.b32, &tx, &ty) else { return nil }
            x.tnum = x.tnum.replacingLow32(with: tx)
            y.tnum = y.tnum.replacingLow32(with: ty)
        }
        x.synchronize()
        y.synchronize()
        if x.isEmpty || y.isEmpty { return nil }
        return swap ? (y, x) : (x, y)
    }

    /// Narrows `x` and `y` so that `x RELATION y`; false when impossible.
    private static func refine<S, U>(_ relation: Relation, _ x: inout Bounds<S, U>, _ y: inout Bounds<S, U>,
                                     _ tx: inout Tnum, _ ty: inout Tnum) -> Bool
    {
        switch relation {
        case .equal:
            let conflict = (tx.value ^ ty.value) & ~tx.mask & ~ty.mask
            guard conflict == 0 else { return false }
            let both = x.intersection(y)
            guard !both.isEmpty else { return false }
            x = both
            y = both
            tx = tx.intersection(ty)
            ty = tx
        case .notEqual:
            if let c = y.constantValue, ty.isConstant { exclude(c, from: &x) }
            if let c = x.constantValue, tx.isConstant { exclude(c, from: &y) }
        case .unsignedLess:
            guard y.umax > U.min, x.umin < U.max else { return false }
            x.umax = Swift.min(x.umax, y.umax - 1)
            y.umin = Swift.max(y.umin, x.umin + 1)
        case .unsignedLessOrEqual:
            x.umax = Swift.min(x.umax, y.umax)
            y.umin = Swift.max(y.umin, x.umin)
        case .signedLess:
            guard y.smax > S.min, x.smin < S.max else { return false }
            x.smax = Swift.min(x.smax, y.smax - 1)
            y.smin = Swift.max(y.smin, x.smin + 1)
        case .signedLessOrEqual:
            x.smax = Swift.min(x.smax, y.smax)
            y.smin = Swift.max(y.smin, x.smin)
        case .bitsSet:
            guard tx.maximum & ty.maximum != 0 else { return false }
            if ty.isConstant && ty.value.nonzeroBitCount == 1 { tx = tx | ty }
            if tx.isConstant && tx.value.nonzeroBitCount == 1 { ty = ty | tx }
        case .bitsClear:
            guard tx.value & ty.value == 0 else { return false }
            if ty.isConstant { tx = Tnum(value: tx.value & ~ty.value, mask: tx.mask & ~ty.value) }
            if tx.isConstant { ty = Tnum(value: ty.value & ~tx.value, mask: ty.mask & ~tx.value) }
        }
        return !x.isEmpty && !y.isEmpty
    }

    /// Removes `c` from the edges of `x`'s intervals.
    private static func exclude<S, U>(_ c: U, from x: inout Bounds<S, U>) {
        if x.umin == c && x.umin < U.max { x.umin += 1 } else if x.umax == c && x.umax > U.min { x.umax -= 1 }
        let s = S(truncatingIfNeeded: c)
        if x.smin == s && x.smin < S.max { x.smin += 1 } else if x.smax == s && x.smax > S.min { x.smax -= 1 }
        if x.umin == c && x.umax == c { x.umin = U.max; x.umax = U.min }
    }

    /// The relation that holds on the edge (the negation when not taken), with whether the
    /// operands were swapped to express it as a "less" relation.
    private static func normalize(_ condition: JumpCondition, taken: Bool) -> (Relation, swapped: Bool) {
        let effective: JumpCondition = taken ? condition : condition.negation
        switch effective {
        case .eq: return (.equal, false)
        case .ne: return (.notEqual, false)
        case .lt: return (.unsignedLess, false)
        case .le: return (.unsignedLessOrEqual, false)
        case .gt: return (.unsignedLess, true)
        case .ge: return (.unsignedLessOrEqual, true)
        case .slt: return (.signedLess, false)
        case .sle: return (.signedLessOrEqual, false)
        case .sgt: return (.signedLess, true)
        case .sge: return (.signedLessOrEqual, true)
        case .set: return (taken ? .bitsSet : .bitsClear, false)
        }
    }
}

extension JumpCondition {
    /// The condition that holds exactly when this one does not (`set` is its own: handled apart).
    var negation: JumpCondition {
        switch self {
        case .eq: .ne
        case .ne: .eq
        case .lt: .ge
        case .ge: .lt
        case .gt: .le
        case .le: .gt
        case .slt: .sge
        case .sge: .slt
        case .sgt: .sle
        case .sle: .sgt
        case .set: .set
        }
    }
}
