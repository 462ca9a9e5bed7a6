import Attach
import BPFVM
import CHostHooks
import Testing

/// The attach tests share the process's hooks: they run one at a time.
@Suite(.serialized, .enabled(if: AttachFixtures.isAvailable, AttachFixtures.unavailable))
enum AttachSuite {}

extension AttachSuite {
    /// Each rule of ARCHITECTURE.md's attach semantics, on task_kill(int pid, int sig), whose
    /// original returns `sig` when it is negative (a denial) and 0 otherwise. The programs
    /// (Programs/hook_rules.c) append their digits to `sequence`: fentry 1, fmod_ret 2 and 3,
    /// fexit 4, lsm 5 and 6.
    @Suite struct TrampolineRuleTests {
        static let engines: [HookTable.Engine] = [.jit, .interpreter]

        /// Attaches the named programs of a fresh hook_rules object in the order given.
        func attach(_ names: [String], engine: HookTable.Engine) throws -> (LoadedObject, [Link]) {
            let table = try AttachFixtures.table()
            let object = try AttachFixtures.loaded("hook_rules")
            let links = try names.map { try table.attach(try object.program(named: $0), engine: engine) }
            return (object, links)
        }

        @Test("fentry, then fmod_ret, then the original, then fexit-class programs in attach order", arguments: engines)
        func order(engine: HookTable.Engine) throws {
            let (object, links) = try attach(["policy2", "observe_exit", "modify", "record_entry", "policy", "modify2"],
                                             engine: engine)
            defer { for link in links { try? link.close() } }
            let before = host_hooks_original_calls()
            #expect(task_kill(7, 9) == 0)
            #expect(host_hooks_original_calls() == before + 1)
            // fentry 1; fmod_ret 2, 3 in attach order; fexit-class in attach order: policy2 6, observe_exit 4, policy 5.
            #expect(try object.integer("sequence", as: UInt64.self) == 0x123645)
        }

        @Test("the gate: an lsm program runs only while rc is 0; fexit runs regardless", arguments: engines)
        func gate(engine: HookTable.Engine) throws {
            let (object, links) = try attach(["policy", "policy2", "observe_exit"], engine: engine)
            defer { for link in links { try? link.close() } }
            try object.set("lsm_return", Int32(-1))
            #expect(task_kill(7, 9) == -1)
            // policy (5) denied, policy2 (6) skipped, observe_exit (4) saw the denial.
            #expect(try object.integer("sequence", as: UInt64.self) == 0x54)
            #expect(try object.integer("exit_seen") == -1)
        }

        @Test("override: an lsm program's return replaces rc and the return slot", arguments: engines)
        func override(engine: HookTable.Engine) throws {
            let (object, links) = try attach(["policy", "observe_exit"], engine: engine)
            defer { for link in links { try? link.close() } }
            try object.set("lsm_return", Int32(-13))
            #expect(task_kill(7, 9) == -13)
            #expect(try object.integer("lsm_seen") == 0)
            #expect(try object.integer("exit_seen") == -13)
        }

        @Test("fmod_ret: the first non-zero return skips the other fmod_ret programs and the original", arguments: engines)
        func modifyReturnSkipsOriginal(engine: HookTable.Engine) throws {
            let (object, links) = try attach(["modify", "modify2", "observe_exit"], engine: engine)
            defer { for link in links { try? link.close() } }
            try object.set("modify_return", Int32(-2))
            let before = host_hooks_original_calls()
            #expect(task_kill(7, 9) == -2)
            #expect(host_hooks_original_calls() == before)
            #expect(try object.integer("sequence", as: UInt64.self) == 0x24)
            #expect(try object.integer("modify_seen") == 0)
            #expect(try object.integer("exit_seen") == -2)
        }

        @Test("fmod_ret returning 0: the next fmod_ret and the original run", arguments: engines)
        func modifyReturnZeroContinues(engine: HookTable.Engine) throws {
            let (object, links) = try attach(["modify", "modify2"], engine: engine)
            defer { for link in links { try? link.close() } }
            let before = host_hooks_original_calls()
            #expect(task_kill(7, -4) == -4)
            #expect(host_hooks_original_calls() == before + 1)
            #expect(try object.integer("sequence", as: UInt64.self) == 0x23)
            #expect(try object.integer("modify2_seen") == 0)
        }

        @Test("argument slots: signed arguments sign-extended, in order", arguments: engines)
        func argumentSlots(engine: HookTable.Engine) throws {
            let (object, links) = try attach(["record_entry"], engine: engine)
            defer { for link in links { try? link.close() } }
            #expect(task_kill(-5, 9) == 0)
            #expect(try object.integer("fentry_pid") == -5)
            #expect(try object.integer("fentry_sig") == 9)
        }

        @Test("fexit sees the original's return value in slot nargs", arguments: engines)
        func fexitSeesReturn(engine: HookTable.Engine) throws {
            let (object, links) = try attach(["observe_exit"], engine: engine)
            defer { for link in links { try? link.close() } }
            #expect(task_kill(7, -7) == -7)
            #expect(try object.integer("exit_seen") == -7)
        }

        @Test("a denial by the original is never clobbered by a gated program", arguments: engines)
        func originalDenialKept(engine: HookTable.Engine) throws {
            let (object, links) = try attach(["policy"], engine: engine)
            defer { for link in links { try? link.close() } }
            try object.set("lsm_return", Int32(-1))
            #expect(task_kill(7, -7) == -7)
            #expect(try object.integer("sequence", as: UInt64.self) == 0)
        }

        @Test("a denial by an earlier program is never clobbered by a later gated one", arguments: engines)
        func earlierDenialKept(engine: HookTable.Engine) throws {
            let (object, links) = try attach(["policy", "policy2"], engine: engine)
            defer { for link in links { try? link.close() } }
            try object.set("lsm_return", Int32(-1))
            try object.set("lsm2_return", Int32(-22))
            #expect(task_kill(7, 9) == -1)
            #expect(try object.integer("sequence", as: UInt64.self) == 0x5)
        }

        @Test("fexit observes: its return value is ignored", arguments: engines)
        func fexitObserves(engine: HookTable.Engine) throws {
            let (object, links) = try attach(["observe_exit"], engine: engine)
            defer { for link in links { try? link.close() } }
            #expect(task_kill(7, 9) == 0)
            #expect(try object.integer("sequence", as: UInt64.self) == 0x4)
        }

        @Test("detaching the last program restores the site's NOP and the original's behaviour")
        func detachRestoresSite() throws {
            let table = try AttachFixtures.table()
            let before = HookBytes.entry(of: HookBytes.taskKill)
            #expect(before.starts(with: [0x0f, 0x1f, 0x44, 0x00]))
            let (object, links) = try attach(["policy"], engine: .jit)
            #expect(HookBytes.entry(of: HookBytes.taskKill).first == 0xe9)
            try object.set("lsm_return", Int32(-1))
            #expect(task_kill(7, 9) == -1)
            for link in links { try link.close() }
            #expect(HookBytes.entry(of: HookBytes.taskKill) == before)
            #expect(task_kill(7, 9) == 0)
            #expect(table.status.first { $0.descriptor.name == "task_kill" }?.programs.isEmpty == true)
        }
    }
}

/// The first bytes of a hook function, to see its patch site.
enum HookBytes {
    nonisolated(unsafe) static let taskKill = unsafeBitCast(task_kill as @convention(c) (Int32, Int32) -> Int32, to: UnsafeRawPointer.self)

    static func entry(of function: UnsafeRawPointer) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: function, count: 5))
    }
}
