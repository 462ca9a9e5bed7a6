import Testing
@testable import JIT

/// A listing with labels, written once and turned both into llvm-mc text and assembler calls.
struct LabelListing: CustomStringConvertible, Sendable {
    enum Step: Sendable {
        case padding(Int)
        case label(Int)
        case jmp(Int)
        case j(ConditionCode, Int)
        case call(Int)
        case lea(X86Register, Int)
    }

    let name: String
    let steps: [Step]
    var description: String { name }

    var text: String {
        steps.map { step in
            switch step {
            case .padding(let count): String(repeating: "int3\n", count: count)
            case .label(let id): "L\(id):\n"
            case .jmp(let id): "jmp L\(id)\n"
            case .j(let condition, let id): "j\(condition.suffix) L\(id)\n"
            case .call(let id): "call L\(id)\n"
            case .lea(let register, let id): "lea \(register.name(.qword)), [rip + L\(id)]\n"
            }
        }.joined()
    }

    func assemble() throws -> [UInt8] {
        var assembler = X86Assembler()
        var labels: [Int: Label] = [:]
        func label(_ id: Int) -> Label {
            if let known = labels[id] { return known }
            let made = assembler.newLabel()
            labels[id] = made
            return made
        }
        for step in steps {
            switch step {
            case .padding(let count): for _ in 0..<count { assembler.int3() }
            case .label(let id): assembler.bind(label(id))
            case .jmp(let id): assembler.jmp(label(id))
            case .j(let condition, let id): assembler.j(condition, label(id))
            case .call(let id): assembler.call(label(id))
            case .lea(let register, let id): assembler.lea(register, label(id))
            }
        }
        return try assembler.assembled()
    }

    /// Forward and backward branches at distances around the rel8 limits, for `jmp` and a `jcc`.
    static let all: [LabelListing] = {
        var listings: [LabelListing] = []
        for distance in [1, 2, 100, 125, 126, 127, 128, 129, 130, 1000] {
            listings.append(LabelListing(name: "jmp forward over \(distance)", steps: [.jmp(0), .padding(distance), .label(0), .padding(1)]))
            listings.append(LabelListing(name: "jmp back over \(distance)", steps: [.label(0), .padding(distance), .jmp(0)]))
            listings.append(LabelListing(name: "jne forward over \(distance)", steps: [.j(.notEqual, 0), .padding(distance), .label(0), .padding(1)]))
            listings.append(LabelListing(name: "jl back over \(distance)", steps: [.label(0), .padding(distance), .j(.less, 0)]))
        }
        // Growing one branch pushes another past its limit.
        listings.append(LabelListing(name: "cascade", steps: [
            .j(.equal, 0), .padding(60), .j(.below, 1), .padding(64), .label(0), .padding(1), .jmp(2), .padding(1),
            .label(1), .padding(120), .label(2), .padding(1),
        ]))
        listings.append(LabelListing(name: "calls and lea to labels both ways", steps: [
            .label(0), .padding(3), .call(1), .lea(.rax, 1), .lea(.r13, 0), .padding(200), .label(1), .call(0), .lea(.rdi, 0),
        ]))
        return listings
    }()
}

@Suite("x86-64 labels and branch sizes")
struct X86LabelTests {
    @Test("branches take the size llvm-mc gives them and reach their labels", arguments: LabelListing.all)
    func listing(_ listing: LabelListing) throws {
        try #require(LLVMMC.path != nil && LLVMMC.objcopy != nil, "\(LLVMMC.missing)")
        let expected = try LLVMMC.text(listing.text)
        let actual = try listing.assemble()
        #expect(actual == expected, "\(hex(actual))\n!= llvm-mc\n\(hex(expected))")
    }

    @Test("a jump to the next instruction takes no bytes; a conditional one keeps its two")
    func jumpToNext() throws {
        var assembler = X86Assembler()
        let next = assembler.newLabel()
        assembler.jmp(next)
        assembler.bind(next)
        assembler.ret()
        #expect(try assembler.assembled() == [0xc3])
        var conditional = X86Assembler()
        let after = conditional.newLabel()
        conditional.j(.equal, after)
        conditional.bind(after)
        conditional.ret()
        #expect(try conditional.assembled() == [0x74, 0x00, 0xc3])
    }

    @Test("a call out of 32-bit reach is an encoding error, one in reach is encoded relative to the code")
    func absoluteCalls() throws {
        var assembler = X86Assembler()
        assembler.call(absolute: 0x1000)
        #expect(try assembler.assembled(base: 0x2000) == [0xe8, 0xfb, 0xef, 0xff, 0xff])
        #expect(throws: X86Assembler.EncodingError.outOfReach(target: 0x1000, base: 0x1_0000_2000)) {
            try assembler.assembled(base: 0x1_0000_2000)
        }
    }
}
