import Attach
import BPFVM
import Testing

extension AttachSuite {
    /// What the attach layer refuses, each with its own typed error (Programs/refusals.c).
    @Suite struct RefusalTests {
        func attach(_ name: String) throws -> AttachError? {
            let table = try AttachFixtures.table()
            let object = try AttachFixtures.loaded("refusals")
            do {
                let link = try table.attach(try object.program(named: name))
                try link.close()
                return nil
            } catch let error as AttachError {
                return error
            }
        }

        @Test("a section naming no hook of the process")
        func unknownHook() throws {
            guard case .unknownHook(_, let hook)? = try attach("unknown_hook") else { Issue.record("not refused as unknown"); return }
            #expect(hook == "no_such_hook")
        }

        @Test("a kind the hook does not allow (lsm on request_handle)")
        func kindNotAllowed() throws {
            guard case .kindNotAllowed(_, let kind, let hook)? = try attach("lsm_on_request") else {
                Issue.record("not refused as a kind the hook does not allow"); return
            }
            #expect(kind == .lsm)
            #expect(hook == "request_handle")
        }

        @Test("an override on a hook off the allow-list (fmod_ret on request_handle)")
        func overrideNotAllowed() throws {
            let error = try attach("override_request")
            guard case .overrideNotAllowed(_, let hook)? = error else { Issue.record("not refused as an override: \(String(describing: error))"); return }
            #expect(hook == "request_handle")
            #expect(error?.description.contains("allow-list") == true)
        }

        @Test("returns the verifier cannot prove inside the hook's range", arguments: ["allow_or_one", "modify_out_of_range"])
        func returnOutOfRange(program: String) throws {
            guard case .verification(_, let hook, let error)? = try attach(program) else {
                Issue.record("not refused by the verifier"); return
            }
            #expect(hook == "file_open")
            #expect("\(error)".contains("-4095"))
        }

        @Test("a 39th program on one hook")
        func tooManyPrograms() throws {
            let table = try AttachFixtures.table()
            var links: [Link] = []
            defer { for link in links { try? link.close() } }
            // 39 objects, each with its own program (a program runs only while its object lives).
            let objects = try (0..<39).map { _ in try AttachFixtures.loaded("refusals") }
            for object in objects.dropLast() {
                links.append(try table.attach(try object.program(named: "count_config")))
            }
            #expect(config_set_attached(table) == 38)
            #expect {
                try table.attach(try objects[38].program(named: "count_config"))
            } throws: { error in
                guard case .tooManyPrograms(let hook, let limit) = error as? AttachError else { return false }
                return hook == "config_set" && limit == 38
            }
        }

        private func config_set_attached(_ table: HookTable) -> Int {
            table.status.first { $0.descriptor.name == "config_set" }?.programs.count ?? 0
        }

        @Test("the same program twice on one hook")
        func alreadyAttached() throws {
            let table = try AttachFixtures.table()
            let object = try AttachFixtures.loaded("refusals")
            let program = try object.program(named: "count_config")
            let link = try table.attach(program)
            defer { try? link.close() }
            #expect {
                try table.attach(program)
            } throws: { error in
                if case .alreadyAttached = error as? AttachError { return true }
                return false
            }
        }

        @Test("sites one aligned store cannot patch", arguments: [
            ("on_gcc_site", "five 1-byte NOPs"), ("on_cet_site", "endbr64"), ("on_straddling_site", "crosses an aligned 8-byte word"),
        ])
        func unpatchableSite(program: String, reason: String) throws {
            let error = try attach(program)
            guard case .unpatchableSite(_, let message)? = error else { Issue.record("not refused: \(String(describing: error))"); return }
            #expect(message.contains(reason))
        }

        @Test("the descriptors: override allow-list and kinds as hooks.h declares them")
        func descriptors() throws {
            let table = try AttachFixtures.table()
            for name in ["file_open", "file_permission", "socket_connect", "task_kill", "buffer_alloc", "net_send", "config_set"] {
                let descriptor = try #require(table.descriptor(named: name))
                #expect(descriptor.overrideRange == -4095...0, "\(name)")
                #expect(descriptor.allowedKinds == Set(AttachKind.allCases), "\(name)")
            }
            let request = try #require(table.descriptor(named: "request_handle"))
            #expect(request.overrideRange == nil)
            #expect(request.allowedKinds == [.fentry, .fexit])
            let send = try #require(table.descriptor(named: "net_send"))
            #expect(send.parameters.map(\.name) == ["daddr", "dport", "len"])
            #expect(send.parameters.map(\.width) == [.unsigned(bytes: 4), .unsigned(bytes: 2), .unsigned(bytes: 4)])
        }
    }
}
