import BPFVM
import JIT
import Verifier

/// Why a hook could not be described, or a program attached or detached. Each case names the
/// hook (and program) and says what to change.
public enum AttachError: Error, Sendable, CustomStringConvertible {
    /// A hook the process declares has no FUNC of that name in the host BTF.
    case hookNotInHostBTF(String)
    /// The hook's prototype cannot be hooked.
    case unsupportedPrototype(hook: String, reason: String)
    /// The process declares more hooks than the per-thread state has room for.
    case tooManyHooks(Int)
    /// A second host BTF that differs from the one the process's hooks were described with.
    case hostBTFMismatch
    /// The program's section names no hook of this process.
    case unknownHook(program: String, hook: String)
    /// The program is not a hook program (fentry, fexit, fmod_ret, lsm).
    case notAHookProgram(program: String, kind: String)
    /// The hook does not allow the program's kind.
    case kindNotAllowed(program: String, kind: AttachKind, hook: String)
    /// An `fmod_ret` program on a hook whose return value may not be overridden.
    case overrideNotAllowed(program: String, hook: String)
    /// The hook has its 38 programs already.
    case tooManyPrograms(hook: String, limit: Int)
    /// The same compiled or interpreted program is attached to this hook already.
    case alreadyAttached(program: String, hook: String)
    /// The verifier refused the program for this hook (its return range among others).
    case verification(program: String, hook: String, VerifierError)
    /// The JIT could not compile the program.
    case compilation(program: String, JITError)
    /// The program reads host memory through pointers, which only the JIT makes fault-safe.
    case interpreterCannotReadHostMemory(program: String)
    /// The hook's patch site is not one the attach layer can patch safely.
    case unpatchableSite(hook: String, reason: String)
    /// The site's bytes are not what the attach layer last wrote there.
    case siteChanged(hook: String, expected: [UInt8], found: [UInt8])
    /// The code for a trampoline could not be made.
    case codeMemory(hook: String, reason: String)
    /// A system call the patching protocol needs failed.
    case system(call: String, errno: Int32)

    public var description: String {
        switch self {
        case .hookNotInHostBTF(let hook):
            "the process declares hook '\(hook)', but the host BTF has no function of that name: compile its prototype into the host BTF"
        case .unsupportedPrototype(let hook, let reason):
            "hook '\(hook)' cannot be hooked: \(reason)"
        case .tooManyHooks(let count):
            "the process declares \(count) hooks; at most \(maximumHooks) are supported"
        case .hostBTFMismatch:
            "the process's hooks were already described with another host BTF"
        case .unknownHook(let program, let hook):
            "program '\(program)': no hook named '\(hook)' in this process (see the hook list)"
        case .notAHookProgram(let program, let kind):
            "program '\(program)' is a '\(kind)' program; only fentry/, fexit/, fmod_ret/ and lsm/ programs attach to hooks"
        case .kindNotAllowed(let program, let kind, let hook):
            "program '\(program)': hook '\(hook)' does not allow \(kind) programs"
        case .overrideNotAllowed(let program, let hook):
            "program '\(program)': hook '\(hook)' is not on the override allow-list: its return value cannot be modified (fmod_ret)"
        case .tooManyPrograms(let hook, let limit):
            "hook '\(hook)' has \(limit) programs attached, the most a trampoline takes: detach one first"
        case .alreadyAttached(let program, let hook):
            "program '\(program)' is attached to hook '\(hook)' already"
        case .verification(let program, let hook, let error):
            "program '\(program)' cannot attach to hook '\(hook)': \(error)"
        case .compilation(let program, let error):
            "program '\(program)' could not be compiled: \(error)"
        case .interpreterCannotReadHostMemory(let program):
            "program '\(program)' reads host structures through pointers, which must read 0 where the address is bad; only the JIT does that: attach it compiled"
        case .unpatchableSite(let hook, let reason):
            "hook '\(hook)' cannot be patched: \(reason)"
        case .siteChanged(let hook, let expected, let found):
            "hook '\(hook)': the patch site holds \(hex(found)), not \(hex(expected)) as expected; something else patched it"
        case .codeMemory(let hook, let reason):
            "hook '\(hook)': no trampoline code: \(reason)"
        case .system(let call, let errno):
            "\(call) failed (errno \(errno))"
        }
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined(separator: " ")
}
