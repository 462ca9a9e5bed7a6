import Attach
import AttachTestHost
import BPFVM
import CHostHooks
import Foundation
import Testing

/// The Swift static-call hook's original: `swift_policy(a, b)` callers reach it through the stub.
/// Denies (-13) when a + b >= 100; blocks while `a` is 777 until `SwiftPolicyGate` opens.
@_cdecl("swift_policy_body")
func swiftPolicyBody(_ a: Int32, _ b: Int32) -> Int32 {
    if a == 777 { SwiftPolicyGate.blockUntilOpened() }
    return a + b >= 100 ? -13 : 0
}

/// Lets a test hold a thread inside swift_policy's original.
enum SwiftPolicyGate {
    nonisolated(unsafe) static var entered = DispatchSemaphore(value: 0)
    nonisolated(unsafe) static var opened = DispatchSemaphore(value: 0)

    static func blockUntilOpened() {
        entered.signal()
        opened.wait()
    }
}

extension AttachSuite {
    @Suite struct HookProbeTests {
        @Test("slots: each integer widened by its type (signed ones sign-extended), whatever the upper register bits", arguments: [HookTable.Engine.jit, .interpreter])
        func slotWidening(engine: HookTable.Engine) throws {
            let table = try AttachFixtures.table()
            let object = try AttachFixtures.loaded("probes", programs: ["record_slots", "record_return"])
            let links = try ["record_slots", "record_return"].map { try table.attach(try object.program(named: $0), engine: engine) }
            defer { for link in links { try? link.close() } }
            // Called with garbage above each argument's width, as the ABI allows.
            typealias Wide = @convention(c) (UInt64, UInt64, UInt64, UInt64, UInt64) -> Int
            let probe = unsafeBitCast(widen_probe as @convention(c) (Int8, UInt8, Int16, UInt16, UInt32) -> Int, to: Wide.self)
            let result = probe(0xaaaa_aaaa_aaaa_aaff, 0xbbbb_bbbb_bbbb_bbfe, 0xcccc_cccc_cccc_fffd, 0xdddd_dddd_dddd_fffc,
                               0xeeee_eeee_ffff_fffb)
            let expected: [UInt64] = [UInt64(bitPattern: -1), 0xfe, UInt64(bitPattern: -3), 0xfffc, 0xffff_fffb]
            let sum = -1 + 0xfe - 3 + 0xfffc + 0xffff_fffb
            #expect(result == sum)
            let slots = try #require(object.global("slots"))
            for (index, value) in expected.enumerated() {
                let slot = slots[(8 * index)..<(8 * index + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                #expect(slot == value, "slot \(index)")
            }
            let returnSlot = slots[40..<48].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            #expect(returnSlot == UInt64(sum))
        }

        @Test("a Swift static-call hook: detached it calls the original; attached, an lsm program can deny")
        func swiftStaticCallHook() throws {
            let table = try AttachFixtures.table()
            #expect(swift_policy(-5, 0) == 0)
            let object = try AttachFixtures.loaded("probes", programs: ["deny_negative_a"])
            let link = try table.attach(try object.program(named: "deny_negative_a"))
            #expect(swift_policy(-5, 0) == -1)
            #expect(try object.integer("swift_seen_a") == -5)
            #expect(swift_policy(5, 0) == 0)
            // The original's denial stands (the gate), and the program saw it.
            #expect(swift_policy(5, 100) == -13)
            #expect(try object.integer("swift_seen_rc") == 0)
            try link.close()
            #expect(swift_policy(-5, 0) == 0)
            #expect(swift_policy(5, 100) == -13)
        }

        @Test("the recursion guard: a hook called from one of its programs runs the original only and counts a miss", arguments: [HookTable.Engine.jit, .interpreter])
        func recursionGuard(engine: HookTable.Engine) throws {
            let table = try AttachFixtures.table()
            var helpers = StandardHelpers.table
            helpers.register(Helper(id: 4000, name: "call_hook_again", arguments: [.scalar]) { value, _, _, _, _, _ in
                UInt64(bitPattern: Int64(reenter_probe(Int32(truncatingIfNeeded: value))))
            })
            let object = try AttachFixtures.loaded("probes", helpers: helpers)
            let misses = table.status.first { $0.descriptor.name == "reenter_probe" }?.recursionMisses ?? 0
            let link = try table.attach(try object.program(named: "reenter"), engine: engine)
            defer { try? link.close() }
            let before = attach_test_host_original_calls()
            #expect(reenter_probe(-3) == -3)
            #expect(try object.integer("reentries") == 1)
            #expect(attach_test_host_original_calls() == before + 2)
            #expect(table.status.first { $0.descriptor.name == "reenter_probe" }?.recursionMisses == misses + 1)
            // The guard is per call: the next call runs the program again.
            #expect(reenter_probe(4) == 0)
            #expect(try object.integer("reentries") == 2)
        }

        @Test("a thread blocked in the original keeps its trampoline alive; it is freed once the thread returns")
        func blockedThreadKeepsTrampoline() throws {
            let table = try AttachFixtures.table()
            let object = try AttachFixtures.loaded("probes", programs: ["deny_negative_a"])
            let link = try table.attach(try object.program(named: "deny_negative_a"))
            SwiftPolicyGate.entered = DispatchSemaphore(value: 0)
            SwiftPolicyGate.opened = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var result: Int32 = 1
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                result = swift_policy(777, -700)
                done.signal()
            }
            thread.start()
            SwiftPolicyGate.entered.wait()
            try link.close()
            let retired = { table.status.first { $0.descriptor.name == "swift_policy" }?.retiredTrampolines ?? -1 }
            table.reclaim()
            #expect(retired() == 1)
            SwiftPolicyGate.opened.signal()
            done.wait()
            // It returned through the old trampoline, which ran the program after the original.
            #expect(result == 0)
            #expect(try object.integer("swift_seen_a") == 777)
            table.reclaim()
            #expect(retired() == 0)
        }

        @Test("run statistics: counted per program while on; off, the trampoline has no code for them")
        func statistics() throws {
            let table = try AttachFixtures.table()
            let object = try AttachFixtures.loaded("hook_rules")
            let link = try table.attach(try object.program(named: "observe_exit"))
            defer { try? link.close() }
            _ = task_kill(1, 2)
            #expect(link.runs == 0)
            try table.setStatistics(true)
            for _ in 0..<3 { _ = task_kill(1, 2) }
            try table.setStatistics(false)
            _ = task_kill(1, 2)
            #expect(link.runs == 3)
            #expect(link.cycles > 0)
            let listed = table.status.first { $0.descriptor.name == "task_kill" }?.programs.first
            #expect(listed?.name == "observe_exit")
            #expect(listed?.runs == 3)
        }
    }
}
