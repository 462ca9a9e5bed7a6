/// Where a program runs, as its ELF section name says (libbpf's naming): attached to a host hook
/// (`fentry/HOOK`, `fexit/HOOK`, `fmod_ret/HOOK`, `lsm/HOOK`), or as a test-run program over raw
/// context memory (the kernel program types: `socket`, `xdp`, `tp/...`, `kprobe/...`, ...).
public enum ProgramKind: Hashable, Sendable, CustomStringConvertible {
    /// Runs before the hook; its return value is ignored.
    case fentry(hook: String)
    /// Runs after the hook and sees its return value in the slot after the arguments.
    case fexit(hook: String)
    /// Runs before the hook; a non-zero return skips the hook and becomes its result.
    case fmodReturn(hook: String)
    /// An `fexit` program with the `rc == 0` gate and override on: a policy.
    case lsm(hook: String)
    /// A kernel program type run over the memory given as its context (named by its section prefix).
    case testRun(type: String)

    /// The section prefixes of kernel program types that load as test-run programs (libbpf's table).
    static let testRunPrefixes = [
        "socket", "xdp", "tc", "classifier", "action", "kprobe", "kretprobe", "uprobe", "uretprobe",
        "uprobe.s", "uretprobe.s", "ksyscall", "kretsyscall", "usdt", "tracepoint", "tp", "raw_tracepoint",
        "raw_tp", "perf_event", "cgroup_skb", "cgroup", "sockops", "sk_skb", "sk_msg", "sk_lookup",
        "flow_dissector", "lwt_in", "lwt_out", "lwt_xmit", "lwt_seg6local", "syscall", "netfilter", "tp_btf",
        "iter", "struct_ops",
    ]

    /// The kind a section name denotes, or nil if libbpf would not recognise it.
    public init?(section: String) {
        let name = section.hasPrefix("?") ? String(section.dropFirst()) : section
        let parts = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let prefix = String(parts[0])
        let target = parts.count > 1 ? String(parts[1]) : ""
        switch prefix {
        case "fentry", "fentry.s": self = .fentry(hook: target)
        case "fexit", "fexit.s": self = .fexit(hook: target)
        case "fmod_ret", "fmod_ret.s": self = .fmodReturn(hook: target)
        case "lsm", "lsm.s": self = .lsm(hook: target)
        default:
            guard Self.testRunPrefixes.contains(prefix) || prefix.hasPrefix("xdp") || prefix.hasPrefix("tcx")
            else { return nil }
            self = .testRun(type: prefix)
            return
        }
        if target.isEmpty { return nil }
    }

    /// The test-run types that trace the host (and so get the tracing helpers); every other
    /// test-run type is a networking kind.
    static let tracingTypes: Set<String> = [
        "kprobe", "kretprobe", "uprobe", "uretprobe", "uprobe.s", "uretprobe.s", "ksyscall", "kretsyscall", "usdt",
        "tracepoint", "tp", "raw_tracepoint", "raw_tp", "perf_event", "tp_btf", "iter", "syscall", "struct_ops",
    ]

    /// Whether the kind traces the host: hook programs and the kernel's tracing program types.
    /// Only these may call the helpers that describe the calling thread or read host memory.
    public var isTracing: Bool {
        switch self {
        case .fentry, .fexit, .fmodReturn, .lsm: true
        case .testRun(let type): Self.tracingTypes.contains(type)
        }
    }

    /// The hook a BTF-attached program names, if it is one.
    public var hook: String? {
        switch self {
        case .fentry(let hook), .fexit(let hook), .fmodReturn(let hook), .lsm(let hook): hook
        case .testRun: nil
        }
    }

    public var description: String {
        switch self {
        case .fentry: "fentry"
        case .fexit: "fexit"
        case .fmodReturn: "fmod_ret"
        case .lsm: "lsm"
        case .testRun(let type): type
        }
    }
}
