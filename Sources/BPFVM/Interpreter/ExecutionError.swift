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
        /// A load or store touches memory outside every region the program may access.
        case outOfBounds(address: UInt64, size: Int, isWrite: Bool)
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
    }

    public var description: String { "instruction \(index): \(problem)" }

    /// What went wrong, without the instruction.
    public var problem: String {
        switch reason {
        case let .outOfBounds(address, size, isWrite):
            "\(isWrite ? "write" : "read") of \(size) bytes at 0x\(hex(address)) is outside the memory the program may access"
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

    public var description: String {
        switch reason {
        case .unknownHelper(let id):
            "instruction \(index): call to unknown helper \(id)"
        case .kfuncCall(let id):
            "instruction \(index): call to kfunc with BTF id \(id); kfuncs are not supported"
        case .unresolvedLoadImmediate(let kind):
            "instruction \(index): lddw pseudo form \(kind) (src \(kind.rawValue)) must be resolved by a loader first"
        }
    }
}
