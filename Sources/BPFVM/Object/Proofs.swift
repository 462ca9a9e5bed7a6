import Synchronization

/// What a program was proven safe for: its kind and its context, exactly (no hash stands in
/// for it). A program that runs unchecked may tail-call only into programs proven safe for the
/// context it was started with, so that what runs unchecked is always covered by a proof.
package struct ProvenContext: Hashable, Sendable {
    /// The shape of a context, as the verifier assumed it.
    package enum Layout: Hashable, Sendable {
        /// `size` bytes of memory (with their length in r2 when `lengthInR2`).
        case memory(size: Int, lengthInR2: Bool)
        /// `struct xdp_md` over a packet.
        case xdp
        /// A hook's argument slots, typed by its prototype in one parsed BTF (`BTF.identity`).
        case hookArguments(hook: String, btf: ObjectIdentifier)
    }

    package let kind: ProgramKind
    package let layout: Layout

    package init(kind: ProgramKind, layout: Layout) {
        self.kind = kind
        self.layout = layout
    }
}

/// The contexts a loaded program was proven safe for, recorded by the verifier and read by
/// engines when a tail call is about to run a program unchecked. Safe to use from any thread.
package final class Proofs: Sendable {
    private let contexts = Mutex<Set<ProvenContext>>([])

    package init() {}

    /// Records that the program was proven safe for `context`.
    package func record(_ context: ProvenContext) {
        _ = contexts.withLock { $0.insert(context) }
    }

    /// Whether the program was proven safe for `context`.
    package func cover(_ context: ProvenContext) -> Bool {
        contexts.withLock { $0.contains(context) }
    }

    /// Whether the program was proven safe for every context `other`'s program was (and `other`'s
    /// for at least one): then whatever context `other`'s program runs unchecked with, this one may
    /// run unchecked with it too.
    package func cover(everyContextOf other: Proofs) -> Bool {
        let needed = other.contexts.withLock { $0 }
        return !needed.isEmpty && contexts.withLock { needed.isSubset(of: $0) }
    }
}
