/// The verifier's state at one point of one path: the call frames (registers and stack of
/// each), the references the path holds, and where it is.
struct AbstractState: Sendable {
    var frames: [Frame]
    /// Acquired references (ring-buffer records) not yet released, by reference id.
    var references: [UInt32: Reference] = [:]
    /// The instruction about to be executed.
    var pc: Int = 0
    /// The next fresh id (for or-null pointers, packet pointers and references).
    var nextID: UInt32 = 1

    var current: Frame {
        get { frames[frames.count - 1] }
        _modify { yield &frames[frames.count - 1] }
    }

    var depth: Int { frames.count - 1 }

    mutating func freshID() -> UInt32 {
        defer { nextID += 1 }
        return nextID
    }

    subscript(register: Int) -> Value {
        get { frames[frames.count - 1].registers[register] }
        set { frames[frames.count - 1].registers[register] = newValue }
    }

    /// The first reference still held that was acquired in frame `frame` or deeper (a callback
    /// must release what it acquired before it returns; a program before it exits or tail-calls).
    func unreleasedReference(acquiredFrom frame: Int) -> (id: UInt32, reference: Reference)? {
        references.filter { $0.value.frame >= frame }.min { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Applies `change` to every register and spilled slot of every frame.
    mutating func updateAllValues(_ change: (inout Value) -> Void) {
        for frame in frames.indices {
            for register in 0..<11 { change(&frames[frame].registers[register]) }
            for slot in frames[frame].stack.indices {
                if var value = frames[frame].stack[slot].spilled {
                    change(&value)
                    frames[frame].stack[slot].replaceSpilled(with: value)
                }
            }
        }
    }

    /// Whether some callback frame of this state is a later run than the same frame of `old`.
    func isLaterIteration(than old: AbstractState) -> Bool {
        zip(frames, old.frames).contains { $0.callback != nil && $0.iteration != $1.iteration }
    }

    /// Forgets the numbers that differ from `old`'s: every scalar register or spilled scalar
    /// not contained in the old state's becomes unknown (a more general state, so still sound).
    mutating func widen(against old: AbstractState) {
        guard frames.count == old.frames.count else { return }
        for index in frames.indices {
            for register in 0..<11 {
                let current = frames[index].registers[register], previous = old.frames[index].registers[register]
                if current.isScalar && previous.isScalar && !previous.scalar.contains(current.scalar) {
                    frames[index].registers[register] = .unknownScalar
                }
            }
            for slot in 0..<Frame.slotCount {
                if let current = frames[index].stack[slot].spilled, current.isScalar,
                   let previous = old.frames[index].stack[slot].spilled, previous.isScalar,
                   !previous.scalar.contains(current.scalar)
                {
                    frames[index].stack[slot].replaceSpilled(with: .unknownScalar)
                }
            }
        }
    }

    /// Whether a state equal to `old` or more general than this one was proven safe, so that
    /// this state need not be explored further (`live` registers only, per frame). `precise`
    /// names the numbers of `old` that must contain this state's; any number covers the others.
    /// Without it every number must.
    func isSubsumed(by old: AbstractState, live: [UInt16], precise: PrecisionMask?) -> Bool {
        guard frames.count == old.frames.count, references.count == old.references.count else { return false }
        var ids = IDMap()
        // Pruning compares states at every prune point: read the frames in place, not copied.
        return frames.withUnsafeBufferPointer { frames in
            old.frames.withUnsafeBufferPointer { oldFrames in
                for index in frames.indices {
                    guard frames[index].callSite == oldFrames[index].callSite,
                          frames[index].function == oldFrames[index].function,
                          frames[index].callback == oldFrames[index].callback else { return false }
                    let preciseRegisters = precise?.registers[index] ?? .max, preciseSlots = precise?.slots[index] ?? .max
                    let liveRegisters = live[index]
                    let registersMatch = frames[index].registers.withUnsafeBufferPointer { registers in
                        oldFrames[index].registers.withUnsafeBufferPointer { oldRegisters in
                            for register in 0..<11 where liveRegisters & (1 << UInt16(register)) != 0 {
                                guard registers[register].isSubsumed(by: oldRegisters[register],
                                                                     precise: preciseRegisters & (1 << UInt16(register)) != 0,
                                                                     ids: &ids) else { return false }
                            }
                            return true
                        }
                    }
                    guard registersMatch else { return false }
                    let stackMatches = frames[index].stack.withUnsafeBufferPointer { stack in
                        oldFrames[index].stack.withUnsafeBufferPointer { oldStack in
                            for slot in 0..<Frame.slotCount {
                                guard stack[slot].isSubsumed(by: oldStack[slot], precise: preciseSlots & (1 << UInt64(slot)) != 0,
                                                             ids: &ids) else { return false }
                            }
                            return true
                        }
                    }
                    guard stackMatches else { return false }
                }
                return true
            }
        }
    }
}

/// One call frame: its registers, its 512-byte stack (64 slots, slot 0 at fp-512), and how it
/// was entered.
struct Frame: Sendable {
    static let slotCount = 64

    var registers: [Value]
    var stack: [StackSlot]
    /// The instruction of the call that entered this frame (-1 for the entry function).
    var callSite: Int
    /// The first instruction of the function this frame runs.
    var function: Int
    /// For a callback frame: the helper call that runs it (it returns there to run again or not).
    var callback: CallbackFrame?
    /// For a callback frame, which run of the callback this is (not part of the state: runs
    /// are compared with each other to see the iterations converge).
    var iteration = 0

    init(callSite: Int, function: Int, callback: CallbackFrame? = nil) {
        registers = Array(repeating: .uninitialized, count: 11)
        stack = Array(repeating: .invalid, count: Self.slotCount)
        self.callSite = callSite
        self.function = function
        self.callback = callback
    }
}

/// An acquired reference: where it was acquired, and the innermost callback frame it was
/// acquired in (0 outside callbacks), which must release it before returning.
struct Reference: Hashable, Sendable {
    let instruction: Int
    let frame: Int
}

/// How a callback frame relates to the helper call that runs it (`bpf_loop`).
struct CallbackFrame: Hashable, Sendable {
    /// The range the callback's r0 must lie in.
    var returnRange: ClosedRange<Int64>
}
