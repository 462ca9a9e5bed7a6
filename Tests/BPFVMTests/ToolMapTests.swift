import Foundation
import Testing
@testable import BPFVM

/// The map kinds tracing tools use: perf event arrays, stack traces, cgroup arrays, maps of maps.
@Suite("Perf event arrays, stack traces, cgroup arrays and maps of maps")
struct ToolMapTests {
    static func definition(_ type: MapType, key: Int = 4, value: Int = 4, entries: Int = 4, flags: UInt32 = 0,
                           inner: MapDefinition? = nil, name: String = "m") -> MapDefinition {
        MapDefinition(name: name, type: type, keySize: key, valueSize: value, maxEntries: entries, flags: flags,
                      innerMap: inner)
    }

    static let innerArray = definition(.array, value: 8, entries: 2, name: "outer.inner")

    static func errno(_ body: () throws(MapError) -> Void) -> Int32? {
        do { try body() } catch { return error.errno }
        return nil
    }

    /// `perf_event_output` of `bytes` (its first `size`): nil on success, else the errno.
    static func output(_ map: Map, _ bytes: [UInt8], size: Int? = nil, flags: UInt64) -> Int32? {
        bytes.withUnsafeBytes { buffer in
            errno { () throws(MapError) in
                try map.perfEventOutput(buffer.baseAddress!, size: size ?? bytes.count, flags: flags)
            }
        }
    }

    // MARK: Definitions

    @Test("definitions are checked with the kernel's rules for each new type", arguments: [
        (definition(.perfEventArray, value: 8), "key_size and value_size must be 4 for perf_event_array"),
        (definition(.cgroupArray, key: 8), "key_size and value_size must be 4 for cgroup_array"),
        (definition(.stackTrace, value: 12), "value_size must be a multiple of 8"),
        (definition(.stackTrace, value: 8 * 128), "at most 127 frames"),
        (definition(.stackTrace, value: 64, flags: 0x20), "BPF_F_STACK_BUILD_ID is not supported"),
        (definition(.arrayOfMaps), "array_of_maps needs an inner map template"),
        (definition(.hashOfMaps, inner: definition(.arrayOfMaps, inner: innerArray)), "cannot itself hold maps"),
        (definition(.hashOfMaps, value: 8, inner: innerArray), "value_size must be 4 for hash_of_maps"),
        (definition(.arrayOfMaps, inner: definition(.array, key: 8)), "key_size must be 4 for array"),
    ])
    func invalidDefinitions(definition: MapDefinition, message: String) {
        #expect(throws: MapError.self) { try Map(definition) }
        do { _ = try Map(definition) } catch {
            #expect(error.description.contains(message), "\(error)")
        }
    }

    // MARK: Perf event arrays

    @Test("perf event records go to the thread's buffer or the one named, in order, and the host drains them")
    func perfEvents() throws {
        let map = try Map(Self.definition(.perfEventArray, entries: Map.threadSlotCount))
        let slot = Map.currentThreadSlot
        for value: UInt8 in [1, 2, 3] {
            #expect(Self.output(map, [value, 0, 0, 0], flags: Map.currentCPU) == nil)
        }
        let other = (slot + 1) % Map.threadSlotCount
        #expect(Self.output(map, [UInt8](repeating: 7, count: 13), flags: UInt64(other)) == nil)
        #expect(map.count == 4)
        let records = map.consumeAllPerfRecords()
        let expected = [(slot, [UInt8]([1, 0, 0, 0])), (slot, [2, 0, 0, 0]), (slot, [3, 0, 0, 0]),
                        (other, [UInt8](repeating: 7, count: 13))].sorted { $0.0 < $1.0 }
        #expect(records.map(\.slot) == expected.map(\.0))
        #expect(records.map(\.data) == expected.map(\.1))
        #expect(map.consumeAllPerfRecords().isEmpty && map.count == 0)
    }

    @Test("a full perf buffer loses records and says so; bad indices and flags are refused")
    func perfEventLimits() throws {
        let map = try Map(Self.definition(.perfEventArray, entries: 2))
        let record = [UInt8](repeating: 1, count: 4088)  // 4096 bytes with the header
        var stored = 0
        var lastErrno: Int32?
        for _ in 0..<(PerfEventBuffers.bufferSize / 4096 + 3) {
            lastErrno = Self.output(map, record, flags: 1)
            if lastErrno == nil { stored += 1 }
        }
        #expect(stored == PerfEventBuffers.bufferSize / 4096)
        #expect(lastErrno == -ENOSPC)
        var samples = 0
        var lost: [(Int, Int)] = []
        map.consumePerfEvents { event in
            switch event {
            case .sample(let slot, let data): samples += 1; #expect(slot == 1 && data.count == 4088)
            case .lost(let slot, let count): lost.append((slot, count))
            }
        }
        #expect(samples == stored)
        #expect(lost.count == 1 && lost[0] == (1, 3))
        // The ring wraps: after draining, more records fit again, across the end.
        for _ in 0..<5 { #expect(Self.output(map, record, size: 100, flags: 1) == nil) }
        #expect(map.consumeAllPerfRecords().map(\.data) == Array(repeating: Array(record[0..<100]), count: 5))
        #expect(Self.output(map, record, size: 4, flags: 2) == -E2BIG)
        #expect(Self.output(map, record, size: 4, flags: 1 << 32) == -EINVAL)
        #expect(Self.output(map, [UInt8](repeating: 0, count: 70_000), flags: 0) == -E2BIG)
    }

    // MARK: Stack traces

    @Test("one stack keeps one id; another stack at a taken id is EEXIST unless reused; the host reads and deletes")
    func stackIDs() throws {
        let map = try Map(Self.definition(.stackTrace, value: 8 * 4, entries: 1))  // one bucket: every stack collides
        let storage = try #require({ if case .stacks(let stacks) = map.storage { stacks } else { nil } }())
        let first: [UInt64] = [0x1000, 0x2000, 0x3000]
        let second: [UInt64] = [0x1000, 0x2000, 0x4000]
        func store(_ frames: [UInt64], _ flags: UInt64) -> Result<Int, MapError.Reason> {
            frames.withUnsafeBufferPointer { frames in
                Result { () throws(MapError.Reason) -> Int in try storage.store(frames, flags: flags) }
            }
        }
        #expect(store(first, 0) == .success(0))
        #expect(store(first, 0) == .success(0))
        #expect(store(second, 0) == .failure(.keyExists))
        #expect(map.stackTrace(id: 0) == first)
        #expect(store(second, StackTraceStorage.reuseID) == .success(0))
        #expect(map.stackTrace(id: 0) == second)
        // The host's lookup: the frames, then zeros to value_size.
        let value = try #require(map.lookup([0, 0, 0, 0]))
        #expect(value.count == 32)
        #expect(value.withUnsafeBytes { Array($0.bindMemory(to: UInt64.self)) } == second + [0])
        #expect(map.keys == [[0, 0, 0, 0]] && map.count == 1)
        try map.delete([0, 0, 0, 0])
        #expect(map.stackTrace(id: 0) == nil && map.count == 0)
        #expect(Self.errno { () throws(MapError) in try map.delete([0, 0, 0, 0]) } == -ENOENT)
    }

    /// Takes a stack id for each of `flags` from one call site, so that the stacks differ only in
    /// what the flags make of them.
    @inline(never)
    static func stackIDs(_ map: Map, flags: [UInt64], boundary: UInt64 = 0) -> [Int64] {
        flags.map { map.stackID(flags: $0, boundary: boundary) }
    }

    @Test("get_stackid records the host's stack above the run's boundary; the kernel stack has no frames")
    func userStacks() throws {
        let map = try Map(Self.definition(.stackTrace, value: 8 * 127, entries: 64))
        // Every frame (boundary 0): the same stack gives the same id; skipping drops frames from the top.
        let user = StackTraceStorage.userStack
        let ids = Self.stackIDs(map, flags: [user, user, user | 2, 0, 1 << 12])
        #expect(ids[0] >= 0 && ids[0] == ids[1])
        let frames = try #require(map.stackTrace(id: Int(ids[0])))
        #expect(frames.count > 3)
        #expect(map.stackTrace(id: Int(ids[2])) == Array(frames.dropFirst(2)))
        // The kernel stack has no frames: -EFAULT; unknown flags: -EINVAL.
        #expect(ids[3] == -EFAULT && ids[4] == -EINVAL)
        // A boundary above every frame leaves none either.
        #expect(Self.stackIDs(map, flags: [user], boundary: .max) == [Int64(-EFAULT)])
        // get_stack: bytes copied, the rest zeroed; the kernel stack copies nothing.
        var buffer = [UInt64](repeating: 0xff, count: 4)
        let copied = buffer.withUnsafeMutableBytes {
            Map.copyStack(into: $0.baseAddress!, size: 32, flags: StackTraceStorage.userStack, boundary: 0)
        }
        #expect(copied == 32 && buffer.allSatisfy { $0 != 0 })
        #expect(buffer.withUnsafeMutableBytes { Map.copyStack(into: $0.baseAddress!, size: 32, flags: 0, boundary: 0) } == 0)
        #expect(buffer == [0, 0, 0, 0])
        #expect(buffer.withUnsafeMutableBytes { Map.copyStack(into: $0.baseAddress!, size: 12, flags: 0, boundary: 0) }
            == -EINVAL)
        #expect(buffer.withUnsafeMutableBytes { Map.copyStack(into: $0.baseAddress!, size: 32, flags: 3, boundary: 0) }
            == -EFAULT)
    }

    // MARK: Cgroup arrays

    @Test("the current cgroup is under a stored cgroup when it is that one or a descendant", arguments: [
        ("/a/b", "/a/b", Int64(1)), ("/a/b/c", "/a/b", 1), ("/a/bc", "/a/b", 0), ("/a", "/a/b", 0), ("/x", "/", 1),
        ("/a/b", "/a/b/", 1),
    ])
    func cgroupMembership(current: String, stored: String, expected: Int64) throws {
        let map = try Map(Self.definition(.cgroupArray, entries: 2))
        try map.setCgroup(stored, at: 1)
        #expect(map.cgroup(at: 1) == stored)
        #expect(map.isUnderCgroup(at: 1, Cgroup(path: current, id: 0)) == expected)
        #expect(map.isUnderCgroup(at: 0, Cgroup(path: current, id: 0)) == -EAGAIN)
        #expect(map.isUnderCgroup(at: 2, Cgroup(path: current, id: 0)) == -E2BIG)
    }

    @Test("cgroup array slots: relative paths and indices past the end are refused; the host deletes")
    func cgroupSlots() throws {
        let map = try Map(Self.definition(.cgroupArray, entries: 2))
        #expect(Self.errno { () throws(MapError) in try map.setCgroup("a/b", at: 0) } == -EINVAL)
        #expect(Self.errno { () throws(MapError) in try map.setCgroup("/a", at: 2) } == -E2BIG)
        try map.setCgroup("/a", at: 0)
        #expect(map.count == 1)
        try map.delete([0, 0, 0, 0])
        #expect(map.cgroup(at: 0) == nil)
        #expect(Self.errno { () throws(MapError) in try map.delete([0, 0, 0, 0]) } == -ENOENT)
        // The process's own cgroup is the 0:: line of /proc/self/cgroup; the root's id is 1.
        let own = Cgroup.ofProcess
        #expect(own.path.hasPrefix("/"))
        if Cgroup.mountPoint != nil { #expect(Cgroup(path: "/").id == 1) }
    }

    // MARK: Maps of maps

    @Test("maps of maps hold maps that fit the template; a lookup gives the inner map itself",
          arguments: [MapType.arrayOfMaps, .hashOfMaps])
    func innerMaps(type: MapType) throws {
        let outer = try Map(Self.definition(type, entries: 4, inner: Self.innerArray, name: "outer"))
        let fitting = try Map(Self.innerArray)
        try outer.setInnerMap(fitting, forKey: [1, 0, 0, 0])
        #expect(outer.innerMap(forKey: [1, 0, 0, 0]) === fitting)
        #expect([UInt8]([1, 0, 0, 0]).withUnsafeBytes { outer.lookup(key: $0.baseAddress!) } == fitting.opaquePointer)
        #expect(outer.innerMap(forKey: [2, 0, 0, 0]) == nil)
        #expect(outer.lookup([1, 0, 0, 0]) == nil)  // the host reads inner maps with innerMap(forKey:)
        let wrong = try Map(Self.definition(.array, value: 8, entries: 3, name: "wrong"))
        #expect(Self.errno { () throws(MapError) in try outer.setInnerMap(wrong, forKey: [2, 0, 0, 0]) } == -EINVAL)
        // BPF_F_INNER_MAP on the template lets max_entries differ.
        var template = Self.innerArray
        template.flags = MapDefinition.innerMapFlag
        let flexible = try Map(Self.definition(type, inner: template, name: "flexible"))
        var grown = template
        grown.maxEntries = 100
        try flexible.setInnerMap(try Map(grown), forKey: [0, 0, 0, 0])
        // Programs may only look up; the host deletes.
        let key: [UInt8] = [1, 0, 0, 0]
        #expect(key.withUnsafeBytes { key in
            Self.errno { () throws(MapError) in try outer.update(key: key.baseAddress!, value: key.baseAddress!, flags: 0) }
        } == -EINVAL)
        #expect(outer.count == 1)
        try outer.delete(key)
        #expect(outer.innerMap(forKey: key) == nil && outer.count == 0)
        #expect(Self.errno { () throws(MapError) in try outer.delete(key) } == -ENOENT)
        if type == .arrayOfMaps {
            #expect(Self.errno { () throws(MapError) in try outer.setInnerMap(fitting, forKey: [9, 0, 0, 0]) } == -E2BIG)
            #expect(outer.keys.count == 4)
        }
    }
}
