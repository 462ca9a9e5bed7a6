import BPFVM

/// Why a program cannot be compiled: a typed reason and, where there is one, the instruction.
public struct JITError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The instruction slot the problem is at (nil for the program as a whole).
    public let index: Int?
    public let reason: Reason

    public enum Reason: Hashable, Sendable {
        /// A `lddw` pseudo form the loader should have resolved into an address (map, BTF variable).
        case unresolvedLoadImmediate(LoadImmediateKind)
        /// A call to a helper id the program was not bound to.
        case unknownHelper(Int32)
        /// A call to a kernel function (kfunc), which this runtime does not have.
        case kfuncCall(Int32)
        /// A jump leaves the function it is in (each BPF function is compiled as a native one).
        case jumpLeavesFunction(target: Int)
        /// A function can run past its last instruction into the next function.
        case fallsIntoNextFunction
        /// Functions call each other in a cycle (calls and callbacks count).
        case recursion
        /// A chain of calls and callbacks nests more frames than the limit.
        case callChainTooDeep(frames: Int, limit: Int)
        /// The host refused executable memory (`mmap` or `mprotect` failed with `errno`).
        case memoryUnavailable(call: String, errno: Int32)
        /// Every exception table slot for fault-safe loads is taken.
        case tooManyFaultTables
        /// The verified program is not the loaded program it was given with (by name).
        case notTheVerifiedProgram(String)
        /// Programs compiled together (to tail-call each other) come from different objects.
        case notOneObject
    }

    init(_ reason: Reason, at index: Int? = nil) {
        self.index = index
        self.reason = reason
    }

    public var description: String {
        let text: String = switch reason {
        case .unresolvedLoadImmediate(let kind): "lddw of kind \(kind) is not resolved to an address"
        case .unknownHelper(let id): "call to helper \(id), which the program is not bound to"
        case .kfuncCall(let id): "call to kernel function (kfunc) \(id): this runtime has none"
        case .jumpLeavesFunction(let target): "jump to instruction \(target), outside its function"
        case .fallsIntoNextFunction: "the function can run past its last instruction"
        case .recursion: "functions call each other in a cycle"
        case let .callChainTooDeep(frames, limit): "a chain of calls nests \(frames) frames (limit \(limit))"
        case let .memoryUnavailable(call, errno): "no executable memory: \(call) failed with errno \(errno)"
        case .tooManyFaultTables: "too many compiled programs with fault-safe loads at once"
        case .notTheVerifiedProgram(let name): "'\(name)' is not the program that was verified"
        case .notOneObject: "programs compiled together must come from one object"
        }
        return index.map { "instruction \($0): \(text)" } ?? text
    }
}
