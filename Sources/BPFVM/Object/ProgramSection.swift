/// What the name of an executable section says about its programs, as libbpf reads section names: a kind this
/// runtime runs, a program type libbpf knows that cannot run here (and why), or a name libbpf does not recognise.
///
/// libbpf opens an object whatever its sections are called and refuses a program only when it loads it
/// ("missing BPF prog type, check ELF section name"); so does this runtime: parsing accepts every section, and a
/// program that cannot run fails only when it is loaded.
public enum ProgramSection: Hashable, Sendable {
    /// A kind this runtime runs.
    case runnable(ProgramKind)
    /// A section libbpf recognises whose programs cannot run here, with the reason.
    case notRunnable(reason: String)
    /// A section name libbpf does not recognise.
    case unrecognised

    /// The meaning of the section called `name`.
    public init(name: String) {
        if let kind = ProgramKind(section: name) {
            self = .runnable(kind)
            return
        }
        let unmarked = name.hasPrefix("?") ? String(name.dropFirst()) : name
        let prefix = String(unmarked.prefix { $0 != "/" })
        if let reason = Self.reasons[prefix] {
            self = .notRunnable(reason: reason)
        } else if Self.hookPrefixes.contains(prefix) {
            self = .notRunnable(reason: "'\(prefix)' names no hook; this runtime attaches \(prefix) programs to the"
                + " host hook their section names, as in \(prefix)/HOOK")
        } else {
            self = .unrecognised
        }
    }

    /// The kind, for a runnable section.
    public var kind: ProgramKind? {
        if case .runnable(let kind) = self { kind } else { nil }
    }

    /// Why programs of the section cannot run here, or nil when they can.
    public var refusal: String? {
        switch self {
        case .runnable: nil
        case .notRunnable(let reason): reason
        case .unrecognised: "not a program section libbpf recognises, so it gives its programs no type"
        }
    }

    /// The BTF-attached kinds, which need a hook after the slash.
    static let hookPrefixes: Set<String> = [
        "fentry", "fentry.s", "fexit", "fexit.s", "fmod_ret", "fmod_ret.s", "lsm", "lsm.s",
    ]

    /// The section prefixes of libbpf's table that name program types this runtime cannot run, by the reason.
    static let reasons: [String: String] = {
        let groups: [(prefixes: [String], reason: String)] = [
            (["freplace"],
             "freplace programs replace a function of a BPF program loaded in the kernel, which does not exist here"),
            (["kprobe.multi", "kretprobe.multi", "kprobe.session"],
             "multi-kprobe programs attach to many kernel functions through one kernel link"),
            (["uprobe.multi", "uretprobe.multi", "uprobe.multi.s", "uretprobe.multi.s", "uprobe.session",
              "uprobe.session.s"],
             "multi-uprobe programs attach to many user functions through one kernel link"),
            (["raw_tracepoint.w", "raw_tp.w"], "writable raw tracepoints write a kernel tracepoint's buffer"),
            (["sk_reuseport"], "sk_reuseport programs pick a socket of a SO_REUSEPORT group in the kernel's network stack"),
            (["lirc_mode2"], "lirc_mode2 programs decode infrared signals in the kernel's LIRC driver"),
            (["lsm_cgroup"], "lsm_cgroup programs run on kernel LSM hooks for one cgroup"),
            (["netkit"], "netkit programs run on the kernel's netkit network devices"),
            (["iter.s", "struct_ops.s", "usdt.s"],
             "sleepable variants run only where the kernel may sleep; this runtime runs the plain ones"),
        ]
        var reasons: [String: String] = [:]
        for group in groups {
            for prefix in group.prefixes { reasons[prefix] = group.reason }
        }
        return reasons
    }()
}
