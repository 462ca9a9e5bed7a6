import TestSupport

/// A generator of random but plausible socket programs over 64 bytes of context, in
/// conformance assembly, for the soundness fuzz: numbers read from the context, arithmetic on
/// them, forward branches that join again (so that pruning compares states whose numbers
/// differ), spills and fills of every size, and loads and stores through the context and the
/// stack at offsets computed from those numbers, bounded or not, and calls of a subprogram
/// that gets a number and a pointer into its caller's stack, reads and writes through it and
/// returns a number (so that precision is traced through frames). No loops: every program ends.
struct RandomProgram {
    /// The program's text.
    let source: String

    /// The data registers the program computes with (r1 keeps the context, r2-r5 are scratch).
    private static let data = ["%r0", "%r6", "%r7", "%r8", "%r9"]
    private static let aluOperations = ["add", "sub", "and", "or", "xor", "mul", "lsh", "rsh", "arsh", "mov", "div", "mod"]
    private static let conditions = ["jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset"]
    private static let sizes = [("b", 1), ("h", 2), ("w", 4), ("dw", 8)]

    /// The program `seed` stands for (the same seed always gives the same program).
    init(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let blocks = 4 + random.below(12)
        var lines = ["    mov %r0, 0"]
        for register in Self.data.dropFirst() {
            lines.append("    ldxdw \(register), [%r1+\(8 * random.below(8))]")
        }
        for block in 0..<blocks {
            lines.append("  b\(block):")
            for _ in 0..<(1 + random.below(2)) {
                lines.append(contentsOf: Self.statement(&random, block: block, blocks: blocks))
            }
        }
        lines.append("  b\(blocks):")
        lines.append("    exit")
        // The subprogram, when something calls it (unreachable code is refused).
        if lines.contains("    call local sub") { lines.append(contentsOf: Self.subprogram(&random)) }
        source = lines.joined(separator: "\n")
    }

    /// `sub(r1 = a number, r2 = a pointer to 8 bytes of the caller's stack)`: a few statements
    /// on r0 = r1, a branch, a fill and a spill through r2.
    private static func subprogram(_ random: inout SplitMix64) -> [String] {
        var lines = ["  sub:", "    mov %r0, %r1"]
        let count = 2 + random.below(4)
        for index in 0..<count {
            lines.append("  s\(index):")
            let small = [0, 1, 7, 8, 56, 63, 64, -1][random.below(8)]
            switch random.below(6) {
            case 0: lines.append("    \(random.pick(["add", "and", "or", "lsh", "rsh"])) %r0, \(small < 0 || random.below(2) == 0 ? 3 : small)")
            case 1: lines.append("    \(random.pick(conditions)) %r1, \(small), s\(index + 1 + random.below(count - index))")
            case 2: lines.append(contentsOf: ["    ldxdw %r3, [%r2+0]", "    \(random.pick(["add", "mov", "xor"])) %r0, %r3"])
            case 3: lines.append("    ldxw %r0, [%r2+0]")
            case 4: lines.append(random.below(2) == 0 ? "    stxdw [%r2+0], %r0" : "    stxw [%r2+0], %r1")
            default: lines.append("    mov %r0, \(small)")
            }
        }
        lines.append("  s\(count):")
        lines.append("    exit")
        return lines
    }

    private static func statement(_ random: inout SplitMix64, block: Int, blocks: Int) -> [String] {
        let dst = random.pick(data), src = random.pick(data)
        // Offsets are often bounded right before their access, else by what the path did.
        let mask = random.below(2) == 0 ? [8, 16, 24, 48, 56][random.below(5)] : [7, 15, 31, 63][random.below(4)]
        let bound = random.below(4) != 0 ? ["    and \(src), \(mask)"] : []
        let small = [0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 56, 60, 63, 64, 255, -1, -8, -64][random.below(19)]
        switch random.below(13) {
        case 0, 1:
            // Arithmetic with an immediate or a register, 64 or 32 bits.
            let op = random.pick(aluOperations)
            let width = random.below(4) == 0 ? "32" : ""
            let shift = op == "lsh" || op == "rsh" || op == "arsh"
            let divides = op == "div" || op == "mod"
            let operand = random.below(2) == 0 && !divides ? src : String(shift ? abs(small) % 32 : (divides ? max(1, abs(small)) : small))
            return ["    \(op)\(width) \(dst), \(operand)"]
        case 2:
            return ["    and \(dst), \([7, 15, 31, 56, 63][random.below(5)])"]
        case 3, 4:
            // A forward branch: the blocks between are taken on one side only.
            let target = block + 1 + random.below(blocks - block)
            let width = random.below(5) == 0 ? "32" : ""
            let operand = random.below(3) == 0 ? src : String(small)
            return ["    \(random.pick(conditions))\(width) \(dst), \(operand), b\(target)"]
        case 5:
            return ["    mov \(dst), \(small)"]
        case 6:
            // A spill of some size at some byte of one of four slots.
            let (suffix, size) = random.pick(sizes)
            let offset = -8 * (1 + random.below(4)) + size * random.below(8 / size)
            return random.below(4) == 0 ? ["    st\(suffix) [%r10\(offset)], \(small)"]
                : ["    stx\(suffix) [%r10\(offset)], \(src)"]
        case 7:
            let (suffix, size) = random.pick(sizes)
            let offset = -8 * (1 + random.below(4)) + size * random.below(8 / size)
            return ["    ldx\(suffix) \(dst), [%r10\(offset)]"]
        case 8, 9:
            // A context access at a computed offset.
            let (suffix, size) = random.pick(sizes)
            let offset = random.below(3) == 0 ? random.below(64) : size * random.below(64 / size)
            let access = random.below(3) == 0 ? "    stx\(suffix) [%r3+\(offset)], \(src)"
                : "    ldx\(suffix) \(dst), [%r3+\(offset)]"
            return bound + ["    mov %r3, %r1", "    add %r3, \(src)", access]
        case 10:
            // A stack access at a computed offset below fp-64 (aligned, as the stack must be,
            // when its offset is bounded by a multiple of 8).
            let (suffix, size) = random.pick(sizes)
            let bound = random.below(4) != 0 ? ["    and \(src), \([8, 16, 24, 48, 56][random.below(5)])"] : []
            let offset = size * random.below(8 / size)
            let access = random.below(3) == 0 ? "    stx\(suffix) [%r3+\(offset)], \(dst)"
                : "    ldx\(suffix) \(dst), [%r3+\(offset)]"
            return bound + ["    mov %r3, %r10", "    add %r3, -64", "    add %r3, \(src)", access]
        case 11:
            // A call: a number and a pointer to one of the four slots.
            return ["    mov %r1, \(src)", "    mov %r2, %r10", "    add %r2, \(-8 * (1 + random.below(4)))",
                    "    call local sub", "    mov \(dst), %r0"]
        default:
            return ["    mov \(dst), \(src)"]
        }
    }
}
