import BPFVM

/// Why the verifier rejected a program: the instruction (slot index) it stopped at, the source
/// line there when line info exists, the reason in the kernel's wording, the errno the kernel
/// would return, and the verifier's log up to that point.
public struct VerifierError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The slot index of the offending instruction, nil for whole-program problems.
    public let instruction: Int?
    public let reason: Reason
    /// The source line of the instruction (`file:line: text`), when the program has line info.
    public internal(set) var sourceLine: String?
    /// The log at the requested level, ending with the message.
    public internal(set) var log: String = ""

    init(_ reason: Reason, at instruction: Int?) {
        self.reason = reason
        self.instruction = instruction
    }

    /// The kernel's one-line message.
    public var message: String { reason.message }
    /// The errno the kernel returns for this rejection: EINVAL (22) for structure and return
    /// values, EACCES (13) for unsafe accesses, E2BIG (7) for complexity.
    public var errno: Int32 { reason.errno }

    public var description: String {
        var text = instruction.map { "instruction \($0): " } ?? ""
        text += message
        if let sourceLine { text += " (\(sourceLine))" }
        return text
    }

    /// A reason for rejection.
    public enum Reason: Hashable, Sendable {
        // Structure (EINVAL)
        case jumpOutOfRange(from: Int, to: Int)
        case jumpIntoLoadImmediate(Int)
        case unreachable(Int)
        case fallsOffEnd
        case divisionByZero
        /// A shift by an immediate count outside the operand's width.
        case invalidShift(Int32)
        case unknownHelper(Int32)
        /// A call the loader poisoned (`PoisonedInstruction`), with why, reached by a path.
        case poisonedCall(Int32, String)
        case missingInnerMapTemplate(String)
        case unsupportedCall(String)
        case unresolvedLoadImmediate
        case invalidMapIndex(Int)
        case callStackTooDeep(frames: Int)
        case stackTooLarge(calls: Int, depth: Int)
        case invalidCallTarget(Int)
        case infiniteLoop(at: Int)
        case returnValue(smin: Int64, smax: Int64, allowed: ClosedRange<Int64>, callback: Bool)
        case callbackReturnNotScalar
        case hookNotFound(String)
        case invalidHook(String)
        // Safety (EACCES)
        case registerNotReadable(Int)
        case framePointerReadOnly
        case invalidMemoryAccess(register: Int, type: String)
        /// Outside the frame; `variable` is the pointer's variable part when it has one.
        case stackAccess(write: Bool, register: Int, variable: String?, offset: Int64, size: Int)
        case variableStackAccess(register: Int, detail: String)
        /// `object` is the kernel's pointer description ("stack ", "value ", "" ...); the offset is
        /// printed as the kernel does: variable part + pointer offset + instruction offset.
        case misalignedAccess(object: String, variable: String, pointerOffset: Int64, offset: Int64, size: Int)
        case invalidRegisterFill
        case invalidContextAccess(offset: Int64, size: Int)
        case modifiedContext(register: Int, offset: Int64)
        case variableContextAccess(String)
        case pointerArithmetic(register: Int, operation: String)
        case pointerArithmetic32(register: Int)
        case pointerArithmeticOnNullable(register: Int, type: String)
        case pointerArithmeticOn(register: Int, type: String)
        case mapValueAccess(valueSize: Int, offset: Int64, size: Int)
        case memoryAccess(kind: String, size: Int64, offset: Int64, accessSize: Int)
        case minValueOutOfRange(register: Int)
        case unboundedAccess(register: Int)
        case negativeMinimum(register: Int)
        case packetAccess(offset: Int64, size: Int, register: Int, pointer: String)
        case argumentType(register: Int, actual: String, expected: String)
        /// `byte` is the first uninitialised byte, counted from `offset`.
        case uninitializedStackRead(register: Int, offset: Int64, byte: Int, size: Int)
        case sizeNotConstant(register: Int)
        case invalidZeroSize(register: Int)
        case unreleasedReference(id: UInt32, instruction: Int)
        case notReferenced(register: Int)
        case pointerLeak(register: Int, into: String)
        case readOnlyAccess(String)
        /// A string argument that is not a NUL-terminated string in a frozen read-only map.
        case constantString(String)
        case hookArgumentAlignment(function: String, offset: Int64)
        case hookArgumentMissing(function: String, index: Int64)
        case hookPointerSize(function: String, size: Int)
        case hookStructAccess(type: String, offset: Int64, size: Int)
        case invalidStore(String)
        // Complexity (E2BIG)
        case tooLarge(processed: Int)
        case tooComplex

        public var errno: Int32 {
            switch self {
            case .jumpOutOfRange, .jumpIntoLoadImmediate, .unreachable, .fallsOffEnd, .divisionByZero, .invalidShift, .unknownHelper,
                 .poisonedCall, .missingInnerMapTemplate, .unsupportedCall, .unresolvedLoadImmediate, .invalidMapIndex,
                 .callStackTooDeep, .stackTooLarge, .invalidCallTarget, .infiniteLoop, .returnValue, .callbackReturnNotScalar,
                 .hookNotFound, .invalidHook:
                22
            case .tooLarge, .tooComplex:
                7
            default:
                13
            }
        }

        public var message: String {
            switch self {
            case .jumpOutOfRange(let from, let to): "jump out of range from insn \(from) to \(to)"
            case .jumpIntoLoadImmediate(let target): "jump into the middle of ldimm64 insn \(target)"
            case .unreachable(let index): "unreachable insn \(index)"
            case .fallsOffEnd: "last insn is not an exit or jmp"
            case .divisionByZero: "div by zero"
            case .invalidShift(let count): "invalid shift \(count)"
            case .unknownHelper(let id):
                if let known = StandardHelpers.table[id] {
                    "program of this type cannot use helper bpf_\(known.name)#\(id)"
                } else {
                    "invalid func unknown#\(id)"
                }
            case .poisonedCall(let id, let reason): "invalid func unknown#\(id): the loader poisoned this call: \(reason)"
            case .missingInnerMapTemplate(let name): "map '\(name)' holds maps but has no inner map template"
            case .unsupportedCall(let what): "\(what) is not supported"
            case .unresolvedLoadImmediate: "unrecognized bpf_ld_imm64 insn"
            case .invalidMapIndex(let index): "map index \(index) is not a map of the program"
            case .callStackTooDeep(let frames): "the call stack of \(frames) frames is too deep"
            case .stackTooLarge(let calls, let depth): "combined stack size of \(calls) calls is \(depth). Too large"
            case .invalidCallTarget(let target): "function at insn \(target) is not a function of the program"
            case .infiniteLoop(let at): "infinite loop detected at insn \(at)"
            case .returnValue(let smin, let smax, let allowed, let callback):
                "At \(callback ? "callback return" : "program exit") the register R0 has smin=\(smin) smax=\(smax) should have been in [\(allowed.lowerBound), \(allowed.upperBound)]"
            case .callbackReturnNotScalar: "R0 not a scalar value"
            case .hookNotFound(let name): "hook '\(name)' has no BTF function prototype in the host BTF"
            case .invalidHook(let detail): detail
            case .registerNotReadable(let register): "R\(register) !read_ok"
            case .framePointerReadOnly: "frame pointer is read only"
            case .invalidMemoryAccess(let register, let type): "R\(register) invalid mem access '\(type)'"
            case .stackAccess(let write, let register, let variable, let offset, let size):
                if let variable {
                    "invalid variable-offset \(write ? "write to" : "read from") stack R\(register) var_off=\(variable) off=\(offset) size=\(size)"
                } else {
                    "invalid \(write ? "write to" : "read from") stack R\(register) off=\(offset) size=\(size)"
                }
            case .variableStackAccess(let register, let detail):
                "R\(register) variable stack access \(detail)"
            case .misalignedAccess(let object, let variable, let pointerOffset, let offset, let size):
                "misaligned \(object)access off \(variable)+\(pointerOffset)+\(offset) size \(size)"
            case .invalidRegisterFill: "invalid size of register fill"
            case .invalidContextAccess(let offset, let size): "invalid bpf_context access off=\(offset) size=\(size)"
            case .modifiedContext(let register, let offset):
                "dereference of modified ctx ptr R\(register) off=\(offset) disallowed"
            case .variableContextAccess(let offset): "variable ctx access var_off=\(offset) disallowed"
            case .pointerArithmetic(let register, let operation):
                "R\(register) pointer arithmetic with \(operation) operator prohibited"
            case .pointerArithmetic32(let register): "R\(register) 32-bit pointer arithmetic prohibited"
            case .pointerArithmeticOnNullable(let register, let type):
                "R\(register) pointer arithmetic on \(type) prohibited, null-check it first"
            case .pointerArithmeticOn(let register, let type): "R\(register) pointer arithmetic on \(type) prohibited"
            case .mapValueAccess(let valueSize, let offset, let size):
                "invalid access to map value, value_size=\(valueSize) off=\(offset) size=\(size)"
            case .memoryAccess(let kind, let size, let offset, let accessSize):
                "invalid access to \(kind), mem_size=\(size) off=\(offset) size=\(accessSize)"
            case .minValueOutOfRange(let register): "R\(register) min value is outside of the allowed memory range"
            case .unboundedAccess(let register):
                "R\(register) unbounded memory access, make sure to bounds check any such access"
            case .negativeMinimum(let register):
                "R\(register) min value is negative, either use unsigned or 'var &= const'"
            case .packetAccess(let offset, let size, let register, let pointer):
                "invalid access to packet, off=\(offset) size=\(size), R\(register)(\(pointer))"
            case .argumentType(let register, let actual, let expected):
                "R\(register) type=\(actual) expected=\(expected)"
            case .uninitializedStackRead(let register, let offset, let byte, let size):
                "invalid read from stack R\(register) off \(offset)+\(byte) size \(size)"
            case .sizeNotConstant(let register): "R\(register) is not a known constant"
            case .invalidZeroSize(let register): "R\(register) invalid zero-sized read"
            case .unreleasedReference(let id, let instruction): "Unreleased reference id=\(id) alloc_insn=\(instruction)"
            case .notReferenced(let register):
                "R\(register) must be referenced when passed to release function"
            case .pointerLeak(let register, let into): "R\(register) leaks addr \(into)"
            case .readOnlyAccess(let detail): detail
            case .constantString(let detail): detail
            case .hookArgumentAlignment(let function, let offset):
                "func '\(function)' offset \(offset) is not multiple of 8"
            case .hookArgumentMissing(let function, let index): "func '\(function)' doesn't have \(index)-th argument"
            case .hookPointerSize(let function, let size): "func '\(function)' size \(size) must be 8"
            case .hookStructAccess(let type, let offset, let size):
                "access beyond struct \(type) at off \(offset) size \(size)"
            case .invalidStore(let detail): detail
            case .tooLarge(let processed): "BPF program is too large. Processed \(processed) insn"
            case .tooComplex: "BPF program is too complex"
            }
        }
    }
}
