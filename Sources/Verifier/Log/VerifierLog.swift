import BPFVM

/// The verifier's log in the kernel's format. Level 1 keeps the path being explored (so a
/// rejection shows the path to the error); level 2 keeps every instruction of every path with
/// the registers it changed, branch states and pruning. Level 0 keeps nothing.
struct VerifierLog {
    let level: Int
    let program: Program
    let helpers: HelperTable
    var maps: [MapDefinition] = []
    var hostTypeName: (UInt32) -> String = { _ in "" }
    private(set) var text = ""
    /// Where the current path's lines start (level 1 drops them when the path ends safely).
    private var pathStart: String.Index?
    private var lastLine: (file: String, line: Int)? = nil
    private let lineAt: [Int: LineInfo]

    init(level: Int, program: Program, helpers: HelperTable) {
        self.level = level
        self.program = program
        self.helpers = helpers
        var lineAt: [Int: LineInfo] = [:]
        for line in program.metadata.lines where lineAt[line.instructionIndex] == nil { lineAt[line.instructionIndex] = line }
        self.lineAt = lineAt
    }

    var isEnabled: Bool { level > 0 }

    mutating func append(_ line: String) {
        guard isEnabled else { return }
        text += line
        text += "\n"
    }

    mutating func functionTable(_ starts: [Int]) {
        guard level >= 2 else { return }
        for (number, start) in starts.enumerated() { append("func#\(number) @\(start)") }
    }

    mutating func entryState(_ state: AbstractState) {
        guard isEnabled else { return }
        append("\(state.pc): " + describe(state))
    }

    mutating func beginPath(_ state: AbstractState, from origin: Int?) {
        guard isEnabled else { return }
        if level == 1 { pathStart = text.endIndex }
        if let origin {
            if level >= 2 { text += "\n" }
            append("from \(origin) to \(state.pc): " + describe(state))
        }
    }

    mutating func endPath() {
        guard level == 1, let pathStart else { return }
        text.removeSubrange(pathStart...)
        lastLine = nil
    }

    mutating func pruned(_ pc: Int) {
        guard level >= 2 else { return }
        append("\(pc): safe")
    }

    mutating func instruction(_ pc: Int, _ operation: Operation) {
        guard isEnabled else { return }
        if let line = lineAt[pc], lastLine.map({ $0 != (line.fileName, line.lineNumber) }) ?? true {
            let source = line.source.drop { $0 == " " || $0 == "\t" }
            let base = line.fileName.split(separator: "/").last.map(String.init) ?? line.fileName
            append("; \(source) @ \(base):\(line.lineNumber)")
            lastLine = (line.fileName, line.lineNumber)
        }
        let body = "\(pc): " + KernelSyntax.text(of: operation) { self.helpers[$0]?.name }
        guard level >= 2 else { return append(body) }
        pendingInstruction = body
    }

    private var pendingInstruction: String?

    /// Ends the instruction line with the registers and stack slots it wrote (level 2).
    mutating func after(_ operation: Operation, state: AbstractState, written: UInt16) {
        guard level >= 2, let body = pendingInstruction else { return }
        pendingInstruction = nil
        var parts: [String] = []
        for register in 0..<11 where written & (1 << UInt16(register)) != 0 {
            let value = state.frames.last!.registers[register]
            if value.isInitialized { parts.append("R\(register)=" + value.logText(maps: maps, hostTypeName: hostTypeName)) }
        }
        if case .store = operation { parts.append(contentsOf: stackText(state.frames.last!)) }
        if case .storeImmediate = operation { parts.append(contentsOf: stackText(state.frames.last!)) }
        guard !parts.isEmpty else { return append(body) }
        let position = body.count + 1
        let pad = ((max(position + 4, 40) + 7) / 8) * 8 - position - 1
        append(body + String(repeating: " ", count: pad) + "; " + (state.depth > 0 ? "frame\(state.depth): " : "")
               + parts.joined(separator: " "))
    }

    /// `R1=ctx() R10=fp0 fp-8=mmmmmmmm` for the current frame (callers prefixed `frameN:`).
    func describe(_ state: AbstractState) -> String {
        var parts: [String] = []
        for (index, frame) in state.frames.enumerated() {
            var frameParts: [String] = []
            for register in 0..<11 where frame.registers[register].isInitialized {
                frameParts.append("R\(register)=" + frame.registers[register].logText(maps: maps, hostTypeName: hostTypeName))
            }
            frameParts.append(contentsOf: stackText(frame))
            let prefix = index > 0 ? "frame\(index): " : ""
            parts.append(prefix + frameParts.joined(separator: " ") + (frame.callback != nil ? " cb" : ""))
        }
        return parts.joined(separator: " ")
    }

    private func stackText(_ frame: Frame) -> [String] {
        var parts: [String] = []
        for slot in stride(from: Frame.slotCount - 1, through: 0, by: -1) where frame.stack[slot] != .invalid {
            let offset = (slot - Frame.slotCount) * 8
            if let spilled = frame.stack[slot].spilled {
                parts.append("fp\(offset)=" + spilled.logText(maps: maps, hostTypeName: hostTypeName))
            } else {
                parts.append("fp\(offset)=" + frame.stack[slot].logText)
            }
        }
        return parts
    }
}
