/// Signed and unsigned bounds of a value of one width (64 bits, or the low 32 bits), each
/// interval over-approximating the value's possible values read with that signedness.
struct Bounds<S: FixedWidthInteger & SignedInteger & Sendable, U: FixedWidthInteger & UnsignedInteger & Sendable>: Hashable, Sendable {
    var smin: S, smax: S
    var umin: U, umax: U

    static var unbounded: Bounds { Bounds(smin: S.min, smax: S.max, umin: U.min, umax: U.max) }

    static func constant(_ value: U) -> Bounds {
        let signed = S(truncatingIfNeeded: value)
        return Bounds(smin: signed, smax: signed, umin: value, umax: value)
    }

    /// Only the unsigned interval is known; the signed one follows when it does not cross the sign.
    static func unsigned(_ umin: U, _ umax: U) -> Bounds {
        Bounds(smin: S.min, smax: S.max, umin: umin, umax: umax)
    }

    static func signed(_ smin: S, _ smax: S) -> Bounds {
        Bounds(smin: smin, smax: smax, umin: U.min, umax: U.max)
    }

    var isEmpty: Bool { smin > smax || umin > umax }
    var constantValue: U? { umin == umax ? umin : nil }

    func contains(_ other: Bounds) -> Bool {
        smin <= other.smin && other.smax <= smax && umin <= other.umin && other.umax <= umax
    }

    func contains(value: U) -> Bool {
        let signed = S(truncatingIfNeeded: value)
        return umin <= value && value <= umax && smin <= signed && signed <= smax
    }

    func union(_ other: Bounds) -> Bounds {
        Bounds(smin: Swift.min(smin, other.smin), smax: Swift.max(smax, other.smax),
               umin: Swift.min(umin, other.umin), umax: Swift.max(umax, other.umax))
    }

    func intersection(_ other: Bounds) -> Bounds {
        Bounds(smin: Swift.max(smin, other.smin), smax: Swift.min(smax, other.smax),
               umin: Swift.max(umin, other.umin), umax: Swift.min(umax, other.umax))
    }

    /// Tightens the intervals with what the bits of `tnum` (truncated to this width) say.
    mutating func tighten(with tnum: Tnum) {
        let value = U(truncatingIfNeeded: tnum.value), mask = U(truncatingIfNeeded: tnum.mask)
        let signBit = U(1) << U(U.bitWidth - 1)
        smin = Swift.max(smin, S(truncatingIfNeeded: value | (mask & signBit)))
        smax = Swift.min(smax, S(truncatingIfNeeded: value | (mask & ~signBit)))
        umin = Swift.max(umin, value)
        umax = Swift.min(umax, value | mask)
    }

    /// Carries each interval over to the other where it does not cross its sign boundary.
    mutating func deduceAcrossSigns() {
        if S(truncatingIfNeeded: umin) <= S(truncatingIfNeeded: umax) {
            smin = Swift.max(smin, S(truncatingIfNeeded: umin))
            smax = Swift.min(smax, S(truncatingIfNeeded: umax))
        }
        if U(truncatingIfNeeded: smin) <= U(truncatingIfNeeded: smax) {
            umin = Swift.max(umin, U(truncatingIfNeeded: smin))
            umax = Swift.min(umax, U(truncatingIfNeeded: smax))
        }
    }

    // MARK: - Transfer functions (the operands' bounds at this width)

    static func + (a: Bounds, b: Bounds) -> Bounds {
        var result = Bounds.unbounded
        let (slo, o1) = a.smin.addingReportingOverflow(b.smin)
        let (shi, o2) = a.smax.addingReportingOverflow(b.smax)
        if !o1 && !o2 { result.smin = slo; result.smax = shi }
        let (ulo, o3) = a.umin.addingReportingOverflow(b.umin)
        let (uhi, o4) = a.umax.addingReportingOverflow(b.umax)
        if o3 == o4 { result.umin = ulo; result.umax = uhi }
        return result
    }

    static func - (a: Bounds, b: Bounds) -> Bounds {
        var result = Bounds.unbounded
        let (slo, o1) = a.smin.subtractingReportingOverflow(b.smax)
        let (shi, o2) = a.smax.subtractingReportingOverflow(b.smin)
        if !o1 && !o2 { result.smin = slo; result.smax = shi }
        let (ulo, o3) = a.umin.subtractingReportingOverflow(b.umax)
        let (uhi, o4) = a.umax.subtractingReportingOverflow(b.umin)
        if o3 == o4 { result.umin = ulo; result.umax = uhi }
        return result
    }

    static func * (a: Bounds, b: Bounds) -> Bounds {
        var result = Bounds.unbounded
        let (uhi, overflow) = a.umax.multipliedReportingOverflow(by: b.umax)
        if !overflow { result.umin = a.umin &* b.umin; result.umax = uhi }
        var low = S.max, high = S.min
        for (x, y) in [(a.smin, b.smin), (a.smin, b.smax), (a.smax, b.smin), (a.smax, b.smax)] {
            let (p, o) = x.multipliedReportingOverflow(by: y)
            if o { return result }
            low = Swift.min(low, p)
            high = Swift.max(high, p)
        }
        result.smin = low
        result.smax = high
        return result
    }

    /// The signed interval of a bitwise result when both operands are non-negative (it then
    /// equals the unsigned one); unbounded otherwise.
    private static func bitwise(_ a: Bounds, _ b: Bounds, umin: U, umax: U) -> Bounds {
        var result = Bounds.unsigned(umin, umax)
        if a.smin >= 0 && b.smin >= 0 && S(truncatingIfNeeded: umax) >= 0 {
            result.smin = S(truncatingIfNeeded: umin)
            result.smax = S(truncatingIfNeeded: umax)
        }
        return result
    }

    static func and(_ a: Bounds, _ b: Bounds, bits: Tnum) -> Bounds {
        bitwise(a, b, umin: U(truncatingIfNeeded: bits.value), umax: Swift.min(a.umax, b.umax))
    }

    static func or(_ a: Bounds, _ b: Bounds, bits: Tnum) -> Bounds {
        bitwise(a, b, umin: Swift.max(a.umin, b.umin), umax: U(truncatingIfNeeded: bits.value | bits.mask))
    }

    static func xor(_ a: Bounds, _ b: Bounds, bits: Tnum) -> Bounds {
        bitwise(a, b, umin: U(truncatingIfNeeded: bits.value), umax: U(truncatingIfNeeded: bits.value | bits.mask))
    }

    /// `a << shift` for a shift below the width.
    func shiftedLeft(_ shift: Int) -> Bounds {
        if umax > U.max >> U(shift) { return .unbounded }
        return .unsigned(umin << U(shift), umax << U(shift))
    }

    /// `a >> shift` (logical) for a shift below the width.
    func shiftedRight(_ shift: Int) -> Bounds {
        .unsigned(umin >> U(shift), umax >> U(shift))
    }

    /// `a s>> shift` for a shift below the width.
    func arithmeticShiftedRight(_ shift: Int) -> Bounds {
        .signed(smin >> S(shift), smax >> S(shift))
    }

    /// Unsigned division by a constant (by zero gives 0).
    func divided(by divisor: U) -> Bounds {
        divisor == 0 ? .constant(0) : .unsigned(umin / divisor, umax / divisor)
    }

    /// Unsigned modulo by a constant (by zero leaves the dividend).
    func remainder(dividingBy divisor: U) -> Bounds {
        if divisor == 0 || umax < divisor { return self }
        return .unsigned(0, divisor - 1)
    }
}

typealias Bounds64 = Bounds<Int64, UInt64>
typealias Bounds32 = Bounds<Int32, UInt32>
