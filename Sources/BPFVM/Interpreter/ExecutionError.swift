/// Why a run stopped before the program returned, and at which instruction.
public struct ExecutionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The index of the instruction slot that trapped.
    public let index: Int
    /// What went wrong.
    public let reason: Reason

    public init(index: Int, reason: Reason) {
        self.index = index
        self.reason = reason
    }

    /// The traps of the interpreter. Checked mode reports all of them; trusted mode only those
    /// that the verifier cannot rule out statically (call depth, `callx` to an unknown helper).
    public enum Reason: Hashable, Sendable {
        /// A load or store reaches outside the one object its base register points into (or
        /// goes through a register that holds no pointer at all).
        case outOfBounds(address: UInt64, size: Int, isWrite: Bool, object: MemoryObject)
        /// A store or atomic targets a read-only region.
        case writeToReadOnlyMemory(address: UInt64, size: Int)
        /// An atomic operation on an address that is not aligned to its size.
        case misalignedAtomic(address: UInt64, size: Int)
        /// An instruction reads a register that holds no value yet.
        case uninitializedRegister(Register)
        /// An instruction writes the read-only frame pointer r10.
        case writeToFramePointer
        /// The checked-mode instruction budget ran out (a runaway loop).
        case instructionBudgetExhausted(Int)
        /// A bpf-to-bpf call would nest deeper than the frame limit.
        case callDepthExceeded(limit: Int)
        /// `callx` through a register that holds no registered helper id.
        case unknownHelper(UInt64)
        /// A helper argument does not match the helper's prototype (checked mode).
        case invalidHelperArgument(helper: String, register: Int, problem: String)
        /// The program ended, or made a tail call, while a ring buffer record it reserved was
        /// neither submitted nor discarded (checked mode; the record is discarded).
        case unreleasedRingBufferRecord(address: UInt64)
        /// More ring buffer records reserved at once than checked mode tracks.
        case tooManyRingBufferRecords(limit: Int)
        /// A lookup in the map of maps `outer` returned a map that is not one of the object's maps
        /// (a host stored a foreign map there): checked mode follows only maps it knows.
        case foreignInnerMap(outer: String)
        /// The program reached an instruction the loader poisoned (see `PoisonedInstruction`):
        /// what it needed does not exist here.
        case poisonedInstruction(String)
    }

    public var description: String { "instruction \(index): \(problem)" }

    /// What went wrong, without the instruction.
    public var problem: String {
        switch reason {
        case let .outOfBounds(address, size, isWrite, object):
            "\(isWrite ? "write" : "read") of \(size) bytes at 0x\(hex(address)) \(object.outsideDescription)"
        case let .writeToReadOnlyMemory(address, size):
            "write of \(size) bytes at 0x\(hex(address)) to read-only memory"
        case let .misalignedAtomic(address, size):
            "atomic access of \(size) bytes at 0x\(hex(address)) is not \(size)-byte aligned"
        case .uninitializedRegister(let register):
            "register \(register) is read before it is written"
        case .writeToFramePointer:
            "the frame pointer r10 is read-only"
        case .instructionBudgetExhausted(let budget):
            "instruction budget of \(budget) exhausted (runaway loop?)"
        case .callDepthExceeded(let limit):
            "bpf-to-bpf call would exceed the limit of \(limit) frames"
        case .unknownHelper(let id):
            "callx to \(id), which is not a registered helper"
        case let .invalidHelperArgument(helper, register, problem):
            "bpf_\(helper) argument r\(register): \(problem)"
        case .unreleasedRingBufferRecord(let address):
            "the ring buffer record at 0x\(hex(address)) reserved by this run is neither submitted nor discarded"
        case .tooManyRingBufferRecords(let limit):
            "more than \(limit) ring buffer records reserved at once"
        case .foreignInnerMap(let outer):
            "map '\(outer)' returned a map that is not one of this object's maps; checked runs follow only the"
                + " object's maps (create inner maps with LoadedObject.addMap before load)"
        case .poisonedInstruction(let reason):
            "reached a poisoned instruction: \(reason)"
        }
    }
}

/// The object a pointer was derived from, as a checked-mode trap names it.
public enum MemoryObject: Hashable, Sendable {
    /// None: the register holds a number, not a pointer.
    case number
    /// A BPF stack frame, by call depth (0 is the entry function's).
    case stackFrame(depth: Int, start: UInt64)
    /// Memory the caller of the run gave it (the context, a packet, a buffer), by position.
    case givenRegion(index: Int, start: UInt64, count: Int)
    /// One value of a map.
    case mapValue(map: String, start: UInt64, size: Int)
    /// One ring buffer record this run reserved.
    case ringBufferRecord(start: UInt64, size: Int)
    /// A ring buffer record already submitted or discarded.
    case releasedRingBufferRecord(start: UInt64)
    /// A map itself, which programs pass to helpers but never dereference.
    case map(String)
    /// A BPF function's address (a callback), never dereferenced.
    case function

    /// How an access outside this object reads in a trap message.
    var outsideDescription: String {
        switch self {
        case .number: "goes through a register that holds a number, not a pointer"
        case let .stackFrame(depth, start):
            "is outside the stack frame at depth \(depth) it points into (512 bytes at 0x\(hex(start)))"
        case let .givenRegion(index, start, count):
            "is outside the memory region \(index) it points into (\(count) bytes at 0x\(hex(start)))"
        case let .mapValue(map, start, size):
            "is outside the value of map '\(map)' it points into (\(size) bytes at 0x\(hex(start)))"
        case let .ringBufferRecord(start, size):
            "is outside the ring buffer record it points into (\(size) bytes at 0x\(hex(start)))"
        case .releasedRingBufferRecord(let start):
            "goes through the ring buffer record at 0x\(hex(start)), already submitted or discarded"
        case .map(let name): "goes through a pointer to map '\(name)', which cannot be dereferenced"
        case .function: "goes through a function address, which cannot be dereferenced"
        }
    }
}

/// Why a program cannot be prepared for the interpreter.
public struct LoadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The index of the offending instruction slot.
    public let index: Int
    /// What is wrong.
    public let reason: Reason

    public init(index: Int, reason: Reason) {
        self.index = index
        self.reason = reason
    }

    /// The problems found when binding a program to its helpers.
    public enum Reason: Hashable, Sendable {
        /// A `call` names a helper id that is not in the helper table.
        case unknownHelper(Int32)
        /// A kfunc call (`call` with src 2); this runtime has no kfuncs.
        case kfuncCall(Int32)
        /// An `lddw` pseudo form (map, BTF id, function) that no loader has resolved.
        case unresolvedLoadImmediate(LoadImmediateKind)
    }

    public var description: String { "instruction \(index): \(problem)" }

    /// What is wrong, without the instruction.
    public var problem: String {
        switch reason {
        case .unknownHelper(let id):
            "call to unknown helper \(id)"
        case .kfuncCall(let id):
            "call to kfunc with BTF id \(id); kfuncs are not supported"
        case .unresolvedLoadImmediate(let kind):
            "lddw pseudo form \(kind) (src \(kind.rawValue)) must be resolved by a loader first"
        }
    }
}
