import CSystemShims

/// Checked mode's shadow of a run: for every register whether it holds a value, and for a
/// pointer where it came from (`Provenance`), the same for every 8-byte stack slot (spilled
/// pointers keep their object), and the ring buffer records the run holds. Which registers hold
/// numbers, pointers or nothing is a `RegisterShadow` that the loop keeps in a machine register
/// and passes to every method that reads or changes it.
///
/// `admit` runs before every instruction and is the one place where checked mode decides
/// whether the instruction may execute: registers it reads must be initialised, r10 is never
/// written, and a load, store or atomic must lie inside the one object its base register was
/// derived from: the stack frame it points into (a caller's frame only through a pointer passed
/// down), the memory the caller listed, exactly one map value, or exactly one live ring buffer
/// record (never its header). Helper calls are admitted against the helper's prototype with the
/// same provenance. The loop reports frame changes, helper results and tail calls through the
/// other methods. All state lives in the run, so runs on many threads never share any.
struct Sandbox {
    /// The most ring buffer records one run may hold at once.
    static let maximumRecords = 64
    static let frameSize = UInt(Interpreter.stackFrameSize)

    /// Provenance of r0-r10; only the entries of registers the run's `RegisterShadow` says
    /// hold pointers mean anything (see `tag`).
    let tags: UnsafeMutablePointer<Provenance>
    /// The registers at the start of the run: r10 and the arguments.
    let initialRegisters: RegisterShadow
    /// The call depth (0 in the entry function); frame d spans `frameBase(d) ..< frameBase(d) + 512`.
    var depth = 0
    /// One past the top of frame 0.
    let stackTop: UInt
    /// The lowest address of the deepest possible frame.
    let stackBase: UInt
    /// Provenance of each 8-byte stack slot, from `stackBase` up.
    let slotTags: UnsafeMutablePointer<Provenance>
    /// The entry of `slotTags` for the lowest slot of the running frame (at `depth`).
    var frameSlots: UnsafeMutablePointer<Provenance>
    /// What a call saves: the callee-saved registers' provenance and the register shadow.
    let savedFrames: UnsafeMutablePointer<SavedFrame>
    /// Set once a pointer into a frame was spilled into a shallower frame; returns then look
    /// for it, so that no pointer outlives the frame it points into.
    var deeperPointers = false
    /// The deepest frame this run has entered: frames are cleared the first time they are
    /// entered (a later call finds what an earlier call at that depth of this run left there).
    var deepestFrame = 0

    /// The memory the caller of the run listed.
    let given: UnsafeBufferPointer<MemoryRegion>
    /// The maps of the program's object, in the order provenance indexes them.
    let maps: UnsafeBufferPointer<MapLayout>
    /// Helper prototypes by id.
    let helpers: UnsafeBufferPointer<Helper?>
    /// The provenance of the constants of the code running now, and the distance from its
    /// instructions to their check words (both change on a tail call).
    var constants: UnsafePointer<Provenance>
    var checkOffset: Int
    /// The provenance of the context the run started with (what `.context` arguments must be).
    let context: Provenance

    /// The ring buffer records reserved and not yet released, as (first byte, size).
    let records: UnsafeMutablePointer<(start: UInt, size: Int)>
    var recordCount = 0
    /// The map named by the map argument of the helper call being made (its result's object).
    var helperMap = -1

    struct SavedFrame {
        var r6: Provenance, r7: Provenance, r8: Provenance, r9: Provenance
        var registers: RegisterShadow
        /// For a `bpf_loop` callback frame: the provenance of the context it passes on each turn.
        var callbackContext: Provenance
    }

    static let slotsPerFrame = Interpreter.stackFrameSize / 8

    /// Where `init` carves its buffers out of the scratch memory, in bytes: register tags, slot
    /// tags, saved frames, records, and the end.
    private static let slotTagsOffset = 11 * MemoryLayout<Provenance>.stride
    private static let savedFramesOffset =
        slotTagsOffset + Interpreter.maximumCallDepth * slotsPerFrame * MemoryLayout<Provenance>.stride
    private static let recordsOffset =
        savedFramesOffset + Interpreter.maximumCallDepth * MemoryLayout<SavedFrame>.stride

    private static let trapOffset = alignUp(recordsOffset + maximumRecords * MemoryLayout<(start: UInt, size: Int)>.stride,
                                            MemoryLayout<ExecutionError.Reason?>.alignment)

    /// The scratch memory one sandbox needs, in bytes (16-byte aligned).
    static let scratchSize = trapOffset + MemoryLayout<ExecutionError.Reason?>.stride

    /// A sandbox for a run whose stack is `stack` (all frames) and whose r1-r5 are `arguments`,
    /// keeping its buffers in `scratch` (`scratchSize` bytes); `end()` must follow the run.
    init(scratch: UnsafeMutableRawPointer, stack: UnsafeMutableRawBufferPointer, arguments: [UInt64],
         given: UnsafeBufferPointer<MemoryRegion>, maps: UnsafeBufferPointer<MapLayout>,
         helpers: UnsafeBufferPointer<Helper?>, code: InterpreterCode)
    {
        let depth = Interpreter.maximumCallDepth
        trap = (scratch + Self.trapOffset).bindMemory(to: ExecutionError.Reason?.self, capacity: 1)
        trap.initialize(to: nil)
        tags = scratch.bindMemory(to: Provenance.self, capacity: 11)
        slotTags = (scratch + Self.slotTagsOffset).bindMemory(to: Provenance.self, capacity: depth * Self.slotsPerFrame)
        savedFrames = (scratch + Self.savedFramesOffset).bindMemory(to: SavedFrame.self, capacity: depth)
        records = (scratch + Self.recordsOffset)
            .bindMemory(to: (start: UInt, size: Int).self, capacity: Self.maximumRecords)
        stackBase = UInt(bitPattern: stack.baseAddress)
        stackTop = stackBase + UInt(stack.count)
        frameSlots = slotTags + Int((stackTop - Self.frameSize - stackBase) >> 3)
        self.given = given
        self.maps = maps
        self.helpers = helpers
        constants = code.constants
        checkOffset = code.checkOffset
        tags.initialize(repeating: .scalar, count: 11)
        var registers = RegisterShadow.empty
        tags[10] = Provenance(.stack, index: 0, base: stackTop - Self.frameSize)
        registers.definePointer(10)
        for (index, value) in arguments.enumerated() {
            Self.define(index + 1, Self.givenRegion(containing: value, in: given), tags, &registers)
        }
        initialRegisters = registers
        context = registers.holdsPointer(1) ? tags[1] : .scalar
        clearFrame(0)
    }

    /// Clears frame `depth` (memory and slot provenance): a checked run never sees what code
    /// before it left on the host stack.
    private func clearFrame(_ depth: Int) {
        numberSlots(ofFrame: depth)
        UnsafeMutableRawPointer(bitPattern: frameBase(depth))!.initializeMemory(as: UInt8.self, repeating: 0,
                                                                               count: Interpreter.stackFrameSize)
    }

    /// Makes every slot of frame `depth` a number.
    private func numberSlots(ofFrame depth: Int) {
        (slotTags + Int((frameBase(depth) - stackBase) >> 3)).initialize(repeating: .scalar, count: Self.slotsPerFrame)
    }

    // MARK: - The one check before every instruction

    /// Whether the instruction at `pc` may execute, with `registers` the run's register shadow;
    /// when it may, the shadow state is updated for its result, and when it may not, `trap` says
    /// why. `regs` are the values before it executes.
    ///
    /// One test admits what most instructions are: registers that all hold numbers, computing
    /// a number (or a jump). A few more tests admit, inline, the common cases of the other
    /// rules; everything else, and every failure, goes to `admitRule` out of line, which makes
    /// every rule's full check, so that the loop stays small.
    @_transparent
    mutating func admit(at pc: UnsafePointer<Instruction>, _ regs: UnsafeMutablePointer<UInt64>,
                        _ registers: inout RegisterShadow) -> Bool
    {
        let check = CheckWord(raw: UnsafeRawPointer(pc).load(fromByteOffset: checkOffset, as: UInt64.self))
        if _fastPath(check.needed & registers.unproven == 0) {
            // Numbers in, so a number out, whatever the rule (`CheckWord.beyondRegisters`).
            registers.defineNumbers(check.defines)
            return true
        }
        // Next inline, when the registers read (but r10) hold numbers: an access through r10
        // that `CheckWord` proved in bounds, moving a number (the slot loaded holds one or is
        // loaded in part), which is `accessSlot`'s rule for numbers; and an exit that ends a
        // function or a run holding no ring buffer record.
        if check.needed & registers.unproven & ~CheckWord.framePointerAccess == 0 {
            if let slot = check.frameSlot {
                if check.rule != .load {
                    frameSlots[slot] = .scalar
                    return true
                }
                if check.size != 8 || frameSlots[slot] == .scalar {
                    registers.defineNumbers(check.defines)
                    return true
                }
            } else if check.rule == .exit && mayExit {
                return true
            }
        } else if registers.uninitialized(among: check.needed & ~CheckWord.beyondRegisters) == 0 {
            // Pointers read, and all registers read hold values: a jump; a pointer into memory
            // moved by a constant (it stays one into its object); an access inside given memory
            // (a load narrower than a pointer loads a number).
            switch check.rule {
            case .none:
                return true
            case .offsetByImmediate where tag(check.dst, registers).isMemory:
                return true
            case .load where check.size < 4:
                let provenance = tag(check.src, registers)
                if provenance.kind == .given && inGiven(provenance, accessedAddress(check, pc, regs), check.size, isWrite: false) {
                    registers.defineNumbers(check.defines)
                    return true
                }
            case .store, .storeImmediate:
                let provenance = tag(check.dst, registers)
                if provenance.kind == .given && inGiven(provenance, accessedAddress(check, pc, regs), check.size, isWrite: true) {
                    return true
                }
            default:
                break
            }
        }
        guard let admitted = admitRule(check, at: pc, regs, registers) else { return false }
        registers = admitted
        return true
    }

    /// The full check of the instruction at `pc`, by its rule: the register shadow after it, or
    /// nil when it may not execute. Out of line, and the shadow passed by value both ways, so
    /// that the loop's shadow never has its address taken and stays in a machine register.
    @inline(never)
    private mutating func admitRule(_ check: CheckWord, at pc: UnsafePointer<Instruction>,
                                    _ regs: UnsafeMutablePointer<UInt64>, _ registers: RegisterShadow) -> RegisterShadow?
    {
        var registers = registers
        return applyRule(check, at: pc, regs, &registers) ? registers : nil
    }

    @inline(__always)
    private mutating func applyRule(_ check: CheckWord, at pc: UnsafePointer<Instruction>,
                                    _ regs: UnsafeMutablePointer<UInt64>, _ registers: inout RegisterShadow) -> Bool
    {
        let missing = registers.uninitialized(among: check.needed & ~CheckWord.beyondRegisters)
        if missing != 0 { return failUninitialized(missing) }
        let dst = check.dst
        switch check.rule {
        case .none:
            return true
        case .scalar:
            registers.defineNumbers(check.defines)
            return true
        case .offsetByImmediate:
            if !tag(dst, registers).isMemory { registers.defineNumbers(check.defines) }
            return true
        case .move:
            // A sign-extending move makes a number.
            set(dst, pc.pointee.offset == 0 ? tag(check.src, registers) : .scalar, &registers)
            return true
        case .addRegister, .subtractRegister:
            // A pointer into memory plus or minus a number stays a pointer into its object, a
            // number plus such a pointer too; anything else is a number.
            let (a, b) = (tag(dst, registers), tag(check.src, registers))
            set(dst, a.isMemory && b == .scalar ? a : check.rule == .addRegister && b.isMemory && a == .scalar ? b : .scalar,
                &registers)
            return true
        case .load:
            let src = check.src
            let address = regs[src] &+ UInt64(bitPattern: Int64(pc.pointee.offset))
            let provenance = tag(src, registers)
            let size = check.size
            if provenance.kind == .stack {
                guard let slot = slot(in: provenance, address, size) else {
                    return failAccess(provenance, address, size, isWrite: false)
                }
                accessSlot(slotTags + slot, whole: size == 8 && address & 7 == 0, check, &registers)
                return true
            }
            return admitLoad(dst, provenance, address, size, &registers)
        case .store, .storeImmediate:
            let address = regs[dst] &+ UInt64(bitPattern: Int64(pc.pointee.offset))
            let provenance = tag(dst, registers)
            let size = check.size
            if provenance.kind == .stack {
                guard let slot = slot(in: provenance, address, size) else {
                    return failAccess(provenance, address, size, isWrite: true)
                }
                let whole = size == 8 && address & 7 == 0
                // A store across two slots makes the second a number too.
                if !whole { slotTags[Int((UInt(truncatingIfNeeded: address) &+ UInt(size) &- 1 &- stackBase) >> 3)] = .scalar }
                accessSlot(slotTags + slot, whole: whole, check, &registers)
                return true
            }
            return admitStore(provenance, address, size)
        case .call, .callRegister, .exit, .atomic, .loadImmediate64:
            return admitRest(check, at: pc, regs, &registers)
        }
    }

    /// Whether an exit may end the function running now: it may end a bpf-to-bpf call or a
    /// callback, and the run only when it holds no ring buffer record.
    @inline(__always)
    private var mayExit: Bool { depth > 0 || recordCount == 0 }

    /// The address the load or store at `pc` (described by `check`) accesses.
    @inline(__always)
    private func accessedAddress(_ check: CheckWord, _ pc: UnsafePointer<Instruction>, _ regs: UnsafeMutablePointer<UInt64>) -> UInt64 {
        regs[check.rule == .load ? check.src : check.dst] &+ UInt64(bitPattern: Int64(pc.pointee.offset))
    }

    /// The stack slot of `address` when `size` bytes there lie inside the active frame that
    /// `provenance` (a stack provenance) names; nil otherwise.
    @inline(__always)
    private func slot(in provenance: Provenance, _ address: UInt64, _ size: Int) -> Int? {
        let start = UInt(truncatingIfNeeded: address)
        guard start &- provenance.base <= Self.frameSize - UInt(size), provenance.index <= depth else { return nil }
        return Int((start &- stackBase) >> 3)
    }

    /// Whether `size` bytes at `address` lie inside the given region `provenance` names (and it
    /// is writable, for a write).
    @inline(__always)
    private func inGiven(_ provenance: Provenance, _ address: UInt64, _ size: Int, isWrite: Bool) -> Bool {
        let region = given[provenance.index]
        return UInt(truncatingIfNeeded: address) &- region.start <= UInt(region.count &- size) && region.count >= size
            && (!isWrite || region.isWritable)
    }

    /// The provenance of the value in `register` (a number's, or nothing's, is `.scalar`).
    @inline(__always)
    func tag(_ register: Int, _ registers: RegisterShadow) -> Provenance {
        registers.holdsPointer(register) ? tags[register] : .scalar
    }

    /// Records that `register` (not r10) now holds a value derived from `provenance`.
    @inline(__always)
    private func set(_ register: Int, _ provenance: Provenance, _ registers: inout RegisterShadow) {
        Self.define(register, provenance, tags, &registers)
    }

    @inline(__always)
    private static func define(_ register: Int, _ provenance: Provenance, _ tags: UnsafeMutablePointer<Provenance>,
                               _ registers: inout RegisterShadow)
    {
        if provenance == .scalar {
            registers.defineNumbers(1 << register)
        } else {
            tags[register] = provenance
            registers.definePointer(register)
        }
    }

    /// Records that `register` now holds a value derived from `provenance`; false (a trap) for r10.
    @inline(__always)
    private mutating func define(_ register: Int, _ provenance: Provenance, _ registers: inout RegisterShadow) -> Bool {
        if register == 10 { return failFramePointer() }
        set(register, provenance, &registers)
        return true
    }

    /// Why the run stops (set when `admit` returns false). It lives in the scratch memory so
    /// that the sandbox stays a trivial value.
    let trap: UnsafeMutablePointer<ExecutionError.Reason?>

    @inline(never)
    private mutating func fail(_ reason: ExecutionError.Reason) -> Bool {
        trap.pointee = reason
        return false
    }

    // The failures, out of line so that `admit` builds no `Reason` itself.

    /// `missing`: the registers read that hold nothing (bit 15: the instruction writes r10).
    @inline(never)
    private mutating func failUninitialized(_ missing: UInt16) -> Bool {
        let register = missing.trailingZeroBitCount
        if register == 15 { return fail(.writeToFramePointer) }
        return fail(.uninitializedRegister(Register(rawValue: UInt8(register))!))
    }

    @inline(never)
    private mutating func failFramePointer() -> Bool { fail(.writeToFramePointer) }

    @inline(never)
    private mutating func failAccess(_ provenance: Provenance, _ address: UInt64, _ size: Int, isWrite: Bool) -> Bool {
        fail(access(through: provenance, address, size: size, isWrite: isWrite)
            ?? .outOfBounds(address: address, size: size, isWrite: isWrite, object: describe(provenance)))
    }

    /// A store through anything but the stack.
    @inline(never)
    private mutating func admitStore(_ provenance: Provenance, _ address: UInt64, _ size: Int) -> Bool {
        if let reason = access(through: provenance, address, size: size, isWrite: true) { return fail(reason) }
        return true
    }

    /// A load through anything but the stack.
    @inline(never)
    private mutating func admitLoad(_ dst: Int, _ provenance: Provenance, _ address: UInt64, _ size: Int,
                                    _ registers: inout RegisterShadow) -> Bool
    {
        if let reason = access(through: provenance, address, size: size, isWrite: false) { return fail(reason) }
        set(dst, loaded(through: provenance, address, size: size), &registers)
        return true
    }

    /// The rules whose checks are longest: atomics, `lddw`, calls and exits.
    @inline(never)
    private mutating func admitRest(_ check: CheckWord, at pc: UnsafePointer<Instruction>,
                                    _ regs: UnsafeMutablePointer<UInt64>, _ registers: inout RegisterShadow) -> Bool
    {
        let dst = check.dst, src = check.src
        let imm = pc.pointee.imm
        switch check.rule {
        case .atomic:
            let address = regs[dst] &+ UInt64(bitPattern: Int64(pc.pointee.offset))
            let size = check.size
            let provenance = tag(dst, registers)
            if let reason = access(through: provenance, address, size: size, isWrite: true) { return fail(reason) }
            if address % UInt64(size) != 0 { return fail(.misalignedAtomic(address: address, size: size)) }
            if provenance.kind == .stack { clobber(address, size: size) }
            if imm == Opcode.atomicCmpxchg { return define(0, .scalar, &registers) }
            return imm & Opcode.atomicFetch != 0 ? define(src, .scalar, &registers) : true
        case .loadImmediate64:
            return define(dst, constants[Int(UInt16(bitPattern: pc[1].offset))], &registers)
        case .call:
            guard src == 0, let reason = admitHelper(UInt64(UInt32(bitPattern: imm)), regs, registers) else { return true }
            return fail(reason)
        case .callRegister:
            guard let reason = admitHelper(regs[dst], regs, registers) else { return true }
            return fail(reason)
        case .exit:
            return mayExit || fail(.unreleasedRingBufferRecord(address: UInt64(records[0].start)))
        case .none, .scalar, .move, .offsetByImmediate, .addRegister, .subtractRegister, .load, .store,
             .storeImmediate:
            preconditionFailure("admit handles \(check.rule) inline")
        }
    }

    // MARK: - Objects

    /// The extent of the object `provenance` names, or nil when it names no memory.
    func extent(of provenance: Provenance) -> (start: UInt, end: UInt, isWritable: Bool)? {
        switch provenance.kind {
        case .stack:
            // Only a frame that is still active.
            guard provenance.index <= depth else { return nil }
            return (provenance.base, provenance.base + Self.frameSize, true)
        case .given:
            let region = given[provenance.index]
            return (region.start, region.start + UInt(region.count), region.isWritable)
        case .mapValue:
            let map = maps[provenance.index]
            return (provenance.base, provenance.base + UInt(map.valueSize), map.isWritable)
        case .ringRecord:
            guard let record = record(at: provenance.base) else { return nil }
            return (records[record].start, records[record].start + UInt(records[record].size), true)
        case .scalar, .map, .code:
            return nil
        }
    }

    /// Why `size` bytes at `address`, reached through a value of `provenance`, may not be
    /// accessed; nil when they lie inside that object (and it is writable, for a write).
    func access(through provenance: Provenance, _ address: UInt64, size: Int, isWrite: Bool) -> ExecutionError.Reason? {
        let start = UInt(truncatingIfNeeded: address)
        guard let object = extent(of: provenance), start >= object.start, start <= object.end,
              object.end - start >= UInt(size)
        else { return .outOfBounds(address: address, size: size, isWrite: isWrite, object: describe(provenance)) }
        if isWrite && !object.isWritable { return .writeToReadOnlyMemory(address: address, size: size) }
        return nil
    }

    /// The provenance of a value loaded through `provenance` from anything but the stack (the
    /// stack's slots are `admit`'s): a pointer-sized field of given memory (a context's `data`
    /// or argument slot) that holds an address of given memory points there; anything else is
    /// a number (pointers stored into maps or records are numbers from then on).
    private func loaded(through provenance: Provenance, _ address: UInt64, size: Int) -> Provenance {
        guard provenance.kind == .given && (size == 8 || size == 4) else { return .scalar }
        let value = size == 8 ? bpf_load64(address) : UInt64(bpf_load32(address))
        return Self.givenRegion(containing: value, in: given)
    }

    /// The given region that `value` points into (or one past its end), as a provenance.
    static func givenRegion(containing value: UInt64, in given: UnsafeBufferPointer<MemoryRegion>) -> Provenance {
        let address = UInt(truncatingIfNeeded: value)
        for (index, region) in given.enumerated() where address >= region.start && address - region.start <= UInt(region.count) {
            return Provenance(.given, index: index)
        }
        return .scalar
    }

    /// A load or store (as `check` describes it) of the stack slot whose provenance `entry`
    /// holds, in bounds (`whole`: exactly the slot, else part of it): a load of the whole slot
    /// takes its provenance, of part of it a number; a store of a register's whole value keeps
    /// the value's provenance, any other store makes the slot a number.
    @_transparent
    private mutating func accessSlot(_ entry: UnsafeMutablePointer<Provenance>, whole: Bool, _ check: CheckWord,
                                     _ registers: inout RegisterShadow)
    {
        switch check.rule {
        case .load:
            set(check.dst, whole ? entry.pointee : .scalar, &registers)
        case .store where whole:
            let provenance = tag(check.src, registers)
            entry.pointee = provenance
            if _slowPath(provenance.kind == .stack) && provenance.index > frameDepth(ofSlot: slotTags.distance(to: entry)) {
                deeperPointers = true
            }
        default:
            entry.pointee = .scalar
        }
    }

    /// Makes the slots of `size` bytes of stack at `address` numbers (a helper wrote there, or
    /// an atomic changed them).
    private mutating func clobber(_ address: UInt64, size: Int) {
        let start = UInt(truncatingIfNeeded: address)
        guard size > 0, start >= stackBase, start &+ UInt(size) <= stackTop else { return }
        for slot in Int((start - stackBase) >> 3)...Int((start &+ UInt(size) - 1 - stackBase) >> 3) {
            slotTags[slot] = .scalar
        }
    }

    private func frameDepth(ofSlot slot: Int) -> Int {
        Int((stackTop - 1 - (stackBase + UInt(slot) * 8)) / Self.frameSize)
    }

    @inline(__always)
    func frameBase(_ depth: Int) -> UInt { stackTop &- UInt(bitPattern: depth &+ 1) &* Self.frameSize }

    /// The live record starting at `start`, by position.
    @inline(__always)
    private func record(at start: UInt) -> Int? {
        for index in 0..<recordCount where records[index].start == start { return index }
        return nil
    }

    /// The object a provenance names, for messages.
    func describe(_ provenance: Provenance) -> MemoryObject {
        switch provenance.kind {
        case .scalar: .number
        case .stack: .stackFrame(depth: provenance.index, start: UInt64(provenance.base))
        case .given:
            .givenRegion(index: provenance.index, start: UInt64(given[provenance.index].start),
                         count: given[provenance.index].count)
        case .mapValue:
            .mapValue(map: maps[provenance.index].name, start: UInt64(provenance.base),
                      size: maps[provenance.index].valueSize)
        case .ringRecord:
            record(at: provenance.base).map { .ringBufferRecord(start: UInt64(provenance.base), size: records[$0].size) }
                ?? .releasedRingBufferRecord(start: UInt64(provenance.base))
        case .map: .map(maps[provenance.index].name)
        case .code: .function
        }
    }

    // MARK: - Helpers

    /// Checks a call of helper `id` against its prototype: every argument initialised, map
    /// arguments real maps of the object, memory arguments inside one object of the sizes the
    /// helper will touch, records live and reserved by this run (and released by this call).
    private mutating func admitHelper(_ id: UInt64, _ regs: UnsafeMutablePointer<UInt64>,
                                      _ registers: RegisterShadow) -> ExecutionError.Reason?
    {
        helperMap = -1
        guard id < UInt64(helpers.count), let helper = helpers[Int(id)] else { return nil }  // the loop traps
        var map: MapLayout?
        for (position, kind) in helper.arguments.enumerated() {
            let register = position + 1
            guard registers.isInitialized(register) else {
                return .uninitializedRegister(Register(rawValue: UInt8(register))!)
            }
            let value = regs[register]
            let provenance = tag(register, registers)
            func bad(_ problem: String) -> ExecutionError.Reason {
                .invalidHelperArgument(helper: helper.name, register: register, problem: problem)
            }
            func memory(_ size: Int, isWrite: Bool) -> ExecutionError.Reason? {
                guard size > 0, let reason = access(through: provenance, value, size: size, isWrite: isWrite) else {
                    return nil
                }
                return bad("\(size) bytes at 0x\(hex(value)): \(ExecutionError(index: 0, reason: reason).problem)")
            }
            switch kind {
            case .mapPointer:
                guard provenance.kind == .map, maps[provenance.index].pointer == value else {
                    return bad("0x\(hex(value)) is not a map (\(describe(provenance).pointerDescription))")
                }
                map = maps[provenance.index]
                helperMap = provenance.index
            case .mapKey:
                if let map, let reason = memory(map.keySize, isWrite: false) { return reason }
            case .mapValue:
                if let map, let reason = memory(map.valueSize, isWrite: false) { return reason }
            case .uninitializedMapValue:
                if let map {
                    if let reason = memory(map.valueSize, isWrite: true) { return reason }
                    if provenance.kind == .stack { clobber(value, size: map.valueSize) }
                }
            case .readableMemory, .writableMemory:
                // The size is the next argument.
                guard position + 1 < helper.arguments.count else { continue }
                guard registers.isInitialized(register + 1) else {
                    return .uninitializedRegister(Register(rawValue: UInt8(register + 1))!)
                }
                let size = regs[register + 1]
                guard size <= UInt64(Int32.max) else { return bad("size \(size) is too large") }
                if let reason = memory(Int(size), isWrite: kind == .writableMemory) { return reason }
                // Whatever the helper writes there is a number.
                if kind == .writableMemory && provenance.kind == .stack { clobber(value, size: Int(size)) }
            case .constantString:
                let start = UInt(truncatingIfNeeded: value)
                guard let object = extent(of: provenance), start >= object.start, start < object.end,
                      UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: start), count: Int(object.end - start))
                      .contains(0)
                else { return bad("0x\(hex(value)) is not a NUL-terminated string inside one object") }
            case .ringBufferSample:
                guard provenance.kind == .ringRecord, provenance.base == UInt(truncatingIfNeeded: value),
                      let record = record(at: provenance.base)
                else {
                    return bad("0x\(hex(value)) is not a ring buffer record this run reserved and still holds"
                        + " (\(describe(provenance).pointerDescription))")
                }
                // Released by this call: no later access or second submit gets through.
                recordCount -= 1
                records[record] = records[recordCount]
            case .context:
                guard provenance == context else { return bad("0x\(hex(value)) is not the program's context") }
            case .callback:
                guard provenance.kind == .code else {
                    return bad("0x\(hex(value)) is not a BPF function (\(describe(provenance).pointerDescription))")
                }
            case .anything, .size, .scalar:
                continue
            }
        }
        return nil
    }

    /// Records the result of helper `id` in r0 (a map value of the map argument, the inner map a
    /// map of maps returned, a new ring buffer record, or a number); r1-r5 lose their values.
    /// The register shadow after the call, or nil when the run stops (`trap` says why).
    mutating func helperReturned(_ id: UInt64, _ regs: UnsafeMutablePointer<UInt64>,
                                 _ registers: RegisterShadow) -> RegisterShadow?
    {
        var registers = registers
        if let reason = recordResult(of: id, regs, &registers) {
            trap.pointee = reason
            return nil
        }
        return registers
    }

    private mutating func recordResult(of id: UInt64, _ regs: UnsafeMutablePointer<UInt64>,
                                       _ registers: inout RegisterShadow) -> ExecutionError.Reason?
    {
        var result = Provenance.scalar
        let value = UInt(truncatingIfNeeded: regs[0])
        if value != 0, id < UInt64(helpers.count), let helper = helpers[Int(id)] {
            switch helper.returns {
            case .mapValueOrNull where helperMap >= 0 && maps[helperMap].holdsMaps:
                // The lookup returned an inner map: a map argument for helpers, never memory.
                guard let inner = maps.firstIndex(where: { $0.pointer == UInt64(value) }) else {
                    return .foreignInnerMap(outer: maps[helperMap].name)
                }
                result = Provenance(.map, index: inner)
            case .mapValueOrNull where helperMap >= 0:
                result = Provenance(.mapValue, index: helperMap, base: value)
            case .ringBufferMemoryOrNull:
                guard recordCount < Self.maximumRecords else {
                    RingBuffer.commit(UnsafeMutableRawPointer(bitPattern: value)!, discard: true)
                    return .tooManyRingBufferRecords(limit: Self.maximumRecords)
                }
                records[recordCount] = (value, Int(truncatingIfNeeded: regs[2]))
                recordCount += 1
                result = Provenance(.ringRecord, base: value)
            default:
                break
            }
        }
        registers.uninitialize(0b11_1110)
        set(0, result, &registers)
        return nil
    }

    /// Ends the run: discards every record it still holds (after a trap, so that the ring is
    /// not blocked by a record that will never be submitted) and releases the trap slot.
    mutating func end() {
        for index in 0..<recordCount {
            RingBuffer.commit(UnsafeMutableRawPointer(bitPattern: records[index].start)!, discard: true)
        }
        recordCount = 0
        trap.deinitialize(count: 1)
    }

    // MARK: - Frames

    // The loop passes its register shadow to these by value and takes back the one returned.

    /// A bpf-to-bpf call entered frame `depth + 1`: r1-r5 and r10 carry over, r6-r9 are saved.
    @inline(__always)
    mutating func called(_ registers: RegisterShadow) -> RegisterShadow {
        savedFrames[depth] = SavedFrame(r6: tags[6], r7: tags[7], r8: tags[8], r9: tags[9],
                                        registers: registers, callbackContext: .scalar)
        enterFrame()
        var registers = registers
        registers.uninitialize(RegisterShadow.allRegisters & ~0b100_0011_1110)
        return registers
    }

    /// A `bpf_loop` callback was entered (`first`: from the helper call, else for the next
    /// turn): r1 is the turn, r2 the context the helper was given.
    mutating func calledBack(first: Bool, _ registers: RegisterShadow) -> RegisterShadow {
        let callbackContext = first ? tag(3, registers) : savedFrames[depth].callbackContext
        if first {
            savedFrames[depth] = SavedFrame(r6: tags[6], r7: tags[7], r8: tags[8], r9: tags[9],
                                            registers: registers, callbackContext: callbackContext)
        }
        enterFrame()
        var registers = RegisterShadow.empty
        registers.definePointer(10)
        set(1, .scalar, &registers)
        set(2, callbackContext, &registers)
        return registers
    }

    @inline(__always)
    private mutating func enterFrame() {
        depth &+= 1
        frameSlots -= Self.slotsPerFrame
        tags[10] = Provenance(.stack, index: depth, base: frameBase(depth))
        if depth > deepestFrame {
            deepestFrame = depth
            clearFrame(depth)
        }
    }

    /// The frame at `depth` returned: r6-r9 come back, r0 is the result, and no pointer into the
    /// dead frame survives.
    @inline(__always)
    mutating func returned(_ registers: RegisterShadow) -> RegisterShadow {
        var registers = registers
        let dead = depth
        depth &-= 1
        frameSlots += Self.slotsPerFrame
        let saved = savedFrames[depth]
        tags[6] = saved.r6
        tags[7] = saved.r7
        tags[8] = saved.r8
        tags[9] = saved.r9
        tags[10] = Provenance(.stack, index: depth, base: frameBase(depth))
        // r0 keeps the result (`admit` found it initialised), r1-r5 lose their values.
        registers.restore(0b111_1100_0000, from: saved.registers)
        registers.uninitialize(0b11_1110)
        let result = tag(0, registers)
        if result.kind == .stack && result.index >= dead { registers.defineNumbers(1) }
        if deeperPointers {
            let live = Int((frameBase(depth) - stackBase) >> 3)
            for slot in live..<Int((stackTop - stackBase) >> 3)
            where slotTags[slot].kind == .stack && slotTags[slot].index >= dead {
                slotTags[slot] = .scalar
            }
        }
        return registers
    }

    /// A tail call replaced the program: only r1 (the context) and r10 carry over, the frame's
    /// slots hold numbers, and the constants are the new program's.
    /// The register shadow after it, or nil when the run stops (`trap` says why).
    mutating func tailCalled(to code: InterpreterCode, _ registers: RegisterShadow) -> RegisterShadow? {
        if recordCount > 0 {
            trap.pointee = .unreleasedRingBufferRecord(address: UInt64(records[0].start))
            return nil
        }
        constants = code.constants
        checkOffset = code.checkOffset
        var registers = registers
        registers.uninitialize(RegisterShadow.allRegisters & ~0b100_0000_0010)
        numberSlots(ofFrame: 0)
        return registers
    }
}

extension MemoryObject {
    /// What a value of this provenance is, for helper-argument messages.
    var pointerDescription: String {
        switch self {
        case .number: "a number"
        case .stackFrame(let depth, _): "a pointer into the stack frame at depth \(depth)"
        case .givenRegion(let index, _, _): "a pointer into memory region \(index)"
        case .mapValue(let map, _, _): "a pointer into a value of map '\(map)'"
        case .ringBufferRecord: "a pointer into a live ring buffer record"
        case .releasedRingBufferRecord: "a ring buffer record already submitted or discarded"
        case .map(let name): "map '\(name)'"
        case .function: "a function address"
        }
    }
}

/// `value` rounded up to a multiple of `alignment` (a power of two).
func alignUp(_ value: Int, _ alignment: Int) -> Int { (value + alignment - 1) & ~(alignment - 1) }
