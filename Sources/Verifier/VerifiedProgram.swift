import BPFVM

/// A program the verifier accepted, with the environment it was proven safe in and the facts
/// later stages rely on. Only `Verifier.verify` creates one; only a `VerifiedProgram` runs
/// without checks (`TrustedRunner`) or, later, is compiled.
public struct VerifiedProgram: Sendable {
    public let program: Program
    public let environment: VerificationEnvironment
    public let statistics: VerificationStatistics
    /// The verifier's log at the level asked for (with the summary lines).
    public let log: String
    /// Loads through host-structure pointers: they must read 0 instead of faulting.
    public let hostLoads: Set<Int>
    /// The loaded program this is, when it was verified from a loaded object.
    package internal(set) var loaded: LoadedProgram?

    init(program: Program, environment: VerificationEnvironment, statistics: VerificationStatistics, log: String,
         hostLoads: Set<Int>)
    {
        self.program = program
        self.environment = environment
        self.statistics = statistics
        self.log = log
        self.hostLoads = hostLoads
    }
}
