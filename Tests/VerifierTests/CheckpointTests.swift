import Testing
@testable import Verifier

@Suite("Checkpoints")
struct CheckpointTests {
    /// A loop verified to the instruction budget leaves a chain of tens of thousands of
    /// checkpoints, each holding its parent (and some a loop entry above them): releasing it
    /// must not recurse once per link.
    @Test("a long chain of checkpoints is released without exhausting the stack")
    func longChainIsReleased() {
        let state = AbstractState(frames: [Frame(callSite: -1, function: 0)])
        var last: Checkpoint? = nil
        for serial in 0..<300_000 {
            let checkpoint = Checkpoint(state: state, parent: last, steps: [], serial: serial)
            checkpoint.loopEntry = last
            last = checkpoint
        }
        #expect(last?.serial == 299_999)
        last = nil
        #expect(last == nil)
    }
}
