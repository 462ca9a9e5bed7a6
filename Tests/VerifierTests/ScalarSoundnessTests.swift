import BPFVM
import Testing
import TestSupport
@testable import Verifier

/// The scalar domain against the interpreter's own semantics: for abstract values built from
/// random concrete sets, every concrete result of an operation (or every pair satisfying a
/// branch condition) must be a member of the abstract result. A transfer function that loses a
/// member makes the verifier unsound, and fails here with the operands that show it.
@Suite struct ScalarSoundnessTests {
    /// A deterministic generator of abstract values and their members, so that failures reproduce.
    struct Generator {
        private var random: SplitMix64

        init(state: UInt64) { random = SplitMix64(seed: state) }

        mutating func next() -> UInt64 { random.next() }

        /// A value biased toward the edges where bounds go wrong (0, ±1, sign boundaries).
        mutating func interesting() -> UInt64 {
            let edges: [UInt64] = [0, 1, 2, 7, 8, 31, 32, 63, 64, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000,
                                   0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, .max, .max - 1]
            switch next() % 4 {
            case 0: return edges[Int(next() % UInt64(edges.count))] &+ (next() % 3) &- 1
            case 1: return next() % 64
            case 2: return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: next())))
            default: return next()
            }
        }

        /// An abstract value with its concrete members: a constant, a range, or a set of a few
        /// values joined (its members are the values it was built from).
        mutating func abstract() -> (Scalar, [UInt64]) {
            switch next() % 3 {
            case 0:
                let value = interesting()
                return (.constant(value), [value])
            case 1:
                var a = interesting(), b = interesting()
                if a > b { swap(&a, &b) }
                if b - a > 1 << 20 && next() % 2 == 0 { b = a &+ next() % (1 << 20) }
                let members = [a, b, a &+ (b &- a) / 2] + (0..<4).map { _ in a &+ next() % (b &- a &+ 1 == 0 ? 1 : b &- a &+ 1) }
                return (.range(a, b), members)
            default:
                let values = (0..<3).map { _ in interesting() }
                let joined = values.dropFirst().reduce(Scalar.constant(values[0])) { $0.union(.constant($1)) }
                return (joined, values)
            }
        }
    }

    static let widths: [OperandWidth] = [.bits64, .bits32]

    @Test(arguments: ALUOperation.allCases, widths)
    func aluResultsContainEveryConcreteResult(_ op: ALUOperation, _ width: OperandWidth) {
        var random = Generator(state: UInt64(op.hashValue & 0xffff) &* 31 &+ (width == .bits64 ? 1 : 2))
        for _ in 0..<3000 {
            let (a, aMembers) = random.abstract()
            let (b, bMembers) = random.abstract()
            let result = a.applying(op, b, width: width)
            for x in aMembers where a.contains(value: x) {
                for y in bMembers where b.contains(value: y) {
                    let concrete = op.apply(x, y, width: width)
                    #expect(result.contains(value: concrete),
                            "\(op) \(width): \(x) op \(y) = \(concrete) is not in \(result.boundsText) (from \(a.boundsText) and \(b.boundsText))")
                    if !result.contains(value: concrete) { return }
                }
            }
        }
    }

    @Test(arguments: JumpCondition.allCases, widths)
    func branchRefinementKeepsEverySatisfyingPair(_ condition: JumpCondition, _ width: OperandWidth) {
        var random = Generator(state: UInt64(condition.hashValue & 0xffff) &* 17 &+ (width == .bits64 ? 3 : 4))
        for _ in 0..<3000 {
            let (a, aMembers) = random.abstract()
            let (b, bMembers) = random.abstract()
            let decided = Scalar.evaluate(condition, width: width, a, b)
            let taken = Scalar.refine(condition, width: width, a, b, taken: true)
            let notTaken = Scalar.refine(condition, width: width, a, b, taken: false)
            for x in aMembers where a.contains(value: x) {
                for y in bMembers where b.contains(value: y) {
                    let holds = condition.holds(x, y, width: width)
                    if let decided { #expect(decided == holds, "\(condition) \(width) decided \(decided) for \(x), \(y)") }
                    let edge = holds ? taken : notTaken
                    guard let (refinedA, refinedB) = edge else {
                        Issue.record("\(condition) \(width): edge \(holds) called infeasible, but \(x), \(y) take it")
                        return
                    }
                    #expect(refinedA.contains(value: x) && refinedB.contains(value: y),
                            "\(condition) \(width) \(holds): \(x), \(y) lost by refining \(a.boundsText) / \(b.boundsText) to \(refinedA.boundsText) / \(refinedB.boundsText)")
                }
            }
        }
    }

    @Test func unaryOperationsContainEveryConcreteResult() {
        var random = Generator(state: 99)
        for _ in 0..<5000 {
            let (a, members) = random.abstract()
            for width in Self.widths {
                let negated = a.negated(width: width)
                for bits in [8, 16, 32] where !(width == .bits32 && bits == 32) {
                    let extended = a.signExtended(from: bits, width: width)
                    for x in members where a.contains(value: x) {
                        #expect(extended.contains(value: signExtend(x, bits: bits, width: width)))
                    }
                }
                for x in members where a.contains(value: x) {
                    #expect(negated.contains(value: ALUOperation.sub.apply(0, x, width: width)))
                }
            }
            for kind in [ByteSwap.toLittleEndian, .toBigEndian, .unconditional] {
                for bits in [16, 32, 64] {
                    let swapped = a.swapped(kind, bits: bits)
                    for x in members where a.contains(value: x) {
                        #expect(swapped.contains(value: kind.apply(x, bits: bits)), "\(kind) \(bits) of \(x)")
                    }
                }
            }
            for bytes in [1, 2, 4, 8] {
                let truncated = a.truncated(toBytes: bytes)
                for x in members where a.contains(value: x) {
                    let expected = bytes == 8 ? x : x & ((1 << UInt64(bytes * 8)) - 1)
                    #expect(truncated.contains(value: expected))
                }
            }
        }
    }
}
