/// The BTF that CO-RE relocations resolve against (a kernel's, or the host's types), with its
/// types indexed by essential name so that finding the candidates of a local type costs one
/// lookup instead of a scan of every target type (a kernel BTF has over 100,000).
///
/// Build it once and link any number of programs against it.
public struct CORETarget: Sendable {
    public let btf: BTF
    /// Type ids by essential name and CO-RE kind class, in id order.
    private let candidatesByName: [CandidateKey: [UInt32]]

    struct CandidateKey: Hashable {
        let name: Substring
        let kindClass: UInt8
    }

    public init(_ btf: BTF) {
        self.btf = btf
        var index: [CandidateKey: [UInt32]] = [:]
        for type in btf.types where !type.name.isEmpty {
            index[CandidateKey(name: CORE.essentialName(type.name), kindClass: CORE.kindClass(type.kind)),
                  default: []].append(type.id)
        }
        candidatesByName = index
    }

    /// The target types a local type `local` may correspond to (`bpf_core_add_cands`): named like
    /// it up to a `___flavour` suffix, and of a kind CO-RE treats as the same (ENUM and ENUM64 mix).
    func candidates(for local: BTFType) -> [UInt32] {
        candidatesByName[CandidateKey(name: CORE.essentialName(local.name), kindClass: CORE.kindClass(local.kind))]
            ?? []
    }
}
