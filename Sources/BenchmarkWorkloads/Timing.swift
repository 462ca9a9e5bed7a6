/// Timing that resists a busy machine: many short rounds, each of enough calls to take about a
/// fifth of a millisecond, and the fastest round counts (a round that was preempted is slower,
/// never faster).
public enum Timing {
    /// The fastest of `rounds` rounds of `body`, in nanoseconds per call.
    public static func nanoseconds(rounds: Int = 300, _ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        // Calls per round: enough for about 200 µs.
        var count = 1
        while true {
            let start = clock.now
            for _ in 0..<count { try body() }
            if clock.now - start > .microseconds(200) || count >= 1 << 20 { break }
            count *= 2
        }
        var fastest = Double.infinity
        for _ in 0..<rounds {
            let start = clock.now
            for _ in 0..<count { try body() }
            let (seconds, attoseconds) = (clock.now - start).components
            fastest = min(fastest, (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(count))
        }
        return fastest
    }
}
