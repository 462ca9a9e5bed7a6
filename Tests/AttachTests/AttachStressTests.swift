import Attach
import BPFVM
import CHostHooks
import Foundation
import Synchronization
import Testing

extension AttachSuite {
    /// Callers on several threads while another thread attaches and detaches: every call must
    /// run exactly the set of programs attached at some instant during it (none lost, doubled
    /// or half-applied), and replaced trampolines must be freed as threads leave them.
    @Suite struct AttachStressTests {
        static let programs = ["stress_entry", "stress_modify", "stress_exit", "stress_policy"]
        static let callers = 4
        static let changes = 10_000

        /// The programs attached in state k: the attacher attaches 0, 1, 2, 3, then detaches 0, 1,
        /// 2, 3, and again (bit i: program i).
        static func state(_ k: Int) -> UInt8 {
            let phase = k % 8
            return phase <= 4 ? UInt8((1 << phase) - 1) : UInt8(0xf & ~((1 << (phase - 4)) - 1))
        }

        /// The attacher's progress: 2k while in state k, 2k+1 while going from k to k+1.
        final class Progress: Sendable {
            let published = Atomic<Int>(0)
            let finished = Atomic<Bool>(false)
            let failures = Mutex<[String]>([])
        }

        @Test("4 threads call a hook while another attaches and detaches 10^4 times: exactly-once runs")
        func attachDetachUnderCalls() throws {
            let table = try AttachFixtures.table()
            let object = try AttachFixtures.loaded("stress")
            let seen = try #require(object.map(named: "seen"))
            let progress = Progress()
            var threads: [Thread] = []
            let finished = DispatchGroup()
            let callCounts = Mutex<[Int]>(Array(repeating: 0, count: Self.callers))
            for caller in 0..<Self.callers {
                finished.enter()
                let thread = Thread {
                    defer { finished.leave() }
                    let key = withUnsafeBytes(of: UInt32(caller).littleEndian, Array.init)
                    var calls = 0
                    while !progress.finished.load(ordering: .acquiring) {
                        try? seen.update(key, [UInt8](repeating: 0, count: 8))
                        let originals = host_hooks_original_calls()
                        let before = progress.published.load(ordering: .acquiring)
                        let result = file_permission(nil, Int32(caller))
                        let after = progress.published.load(ordering: .acquiring)
                        let bytes = seen.lookup(key) ?? []
                        calls += 1
                        let counts = bytes.prefix(4)
                        let ran = counts.enumerated().reduce(UInt8(0)) { $0 | ($1.element == 1 ? 1 << $1.offset : 0) }
                        let states = (before / 2)...((after + 1) / 2)
                        var problems: [String] = []
                        if counts.contains(where: { $0 > 1 }) { problems.append("a program ran twice: \(Array(counts))") }
                        if !states.contains(where: { Self.state($0) == ran }) {
                            problems.append("ran \(String(ran, radix: 2)), attached in states \(states): \(states.map { String(Self.state($0), radix: 2) })")
                        }
                        if result != 0 { problems.append("returned \(result)") }
                        if host_hooks_original_calls() != originals + 1 { problems.append("the original did not run exactly once") }
                        if !problems.isEmpty {
                            progress.failures.withLock { $0.append("thread \(caller), call \(calls): " + problems.joined(separator: "; ")) }
                            break
                        }
                    }
                    callCounts.withLock { $0[caller] = calls }
                }
                threads.append(thread)
                thread.start()
            }
            var links: [Link?] = Array(repeating: nil, count: 4)
            var mostRetired = 0
            for k in 0..<Self.changes {
                if progress.failures.withLock({ !$0.isEmpty }) { break }
                progress.published.store(2 * k + 1, ordering: .releasing)
                let phase = k % 8
                if phase < 4 {
                    links[phase] = try table.attach(try object.program(named: Self.programs[phase]))
                } else {
                    try links[phase - 4]?.close()
                    links[phase - 4] = nil
                }
                progress.published.store(2 * k + 2, ordering: .releasing)
                let retired = table.status.first { $0.descriptor.name == "file_permission" }?.retiredTrampolines ?? 0
                mostRetired = max(mostRetired, retired)
            }
            progress.finished.store(true, ordering: .releasing)
            finished.wait()
            for link in links { try link?.close() }
            let failures = progress.failures.withLock { $0 }
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(callCounts.withLock { $0 }.allSatisfy { $0 > 0 })
            // Every replaced trampoline is freed once the callers have left the hook.
            table.reclaim()
            #expect(table.status.first { $0.descriptor.name == "file_permission" }?.retiredTrampolines == 0)
            #expect(mostRetired < 256, "retired trampolines piled up: \(mostRetired)")
        }
    }
}
