import Dispatch
import Foundation
import Synchronization
import Testing
@testable import BPFVM

// MARK: - Helpers (private, or prefixed with `map`, because other files of this target declare globals)

private func makeMap(_ type: MapType, key: Int = 4, value: Int = 8, entries: Int = 16, flags: UInt32 = 0,
                     name: String = "test") throws -> Map {
    try Map(MapDefinition(name: name, type: type, keySize: key, valueSize: value, maxEntries: entries, flags: flags))
}

private func bytes<T: BitwiseCopyable>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

private func u64(_ bytes: [UInt8]?) -> UInt64? { bytes.map { $0.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } } }

/// Runs `body`, expecting it to fail with `errno`; returns the error for further checks.
@discardableResult
private func expectErrno(_ errno: Int32, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws(MapError) -> Void) -> MapError? {
    do {
        try body()
        Issue.record("expected a MapError with errno \(errno), got success", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.errno == errno, "\(error)", sourceLocation: sourceLocation)
        return error
    }
}

/// The program-side (raw pointer) update.
private func rawUpdate(_ map: Map, _ key: [UInt8], _ value: [UInt8], flags: UInt64 = 0) throws(MapError) {
    var failure: MapError?
    key.withUnsafeBytes { key in
        value.withUnsafeBytes { value in
            do throws(MapError) { try map.update(key: key.baseAddress!, value: value.baseAddress!, flags: flags) }
            catch { failure = error }
        }
    }
    if let failure { throw failure }
}

/// The program-side delete.
private func rawDelete(_ map: Map, _ key: [UInt8]) throws(MapError) {
    var failure: MapError?
    key.withUnsafeBytes { key in
        do throws(MapError) { try map.delete(key: key.baseAddress!) } catch { failure = error }
    }
    if let failure { throw failure }
}

/// The program-side lookup.
private func rawLookup(_ map: Map, _ key: [UInt8]) -> UnsafeMutableRawPointer? {
    key.withUnsafeBytes { map.lookup(key: $0.baseAddress!) }
}

/// Runs `body(i)` on `count` new threads at once and waits for all of them.
private func mapRunThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}

/// Failures seen on helper threads, where `#expect` has no test to report to.
private final class ThreadIssues: Sendable {
    private let messages = Mutex<[String]>([])

    func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition {
            let text = message()
            messages.withLock { $0.append(text) }
        }
    }

    func run(_ what: String, _ body: () throws(MapError) -> Void) {
        do { try body() } catch { check(false, "\(what): \(error)") }
    }

    var all: [String] { messages.withLock { $0 } }
}

private let hashTypes: [MapType] = [.hash, .perThreadHash, .lruHash]
private let arrayTypes: [MapType] = [.array, .perThreadArray]

// MARK: - Types and definitions

@Test func mapTypeNamesAndNumbers() throws {
    let expected: [(MapType, UInt32, String)] = [
        (.hash, 1, "hash"), (.array, 2, "array"), (.programArray, 3, "prog_array"), (.perfEventArray, 4, "perf_event_array"),
        (.perThreadHash, 5, "percpu_hash"), (.perThreadArray, 6, "percpu_array"), (.stackTrace, 7, "stack_trace"),
        (.cgroupArray, 8, "cgroup_array"), (.lruHash, 9, "lru_hash"), (.arrayOfMaps, 12, "array_of_maps"),
        (.hashOfMaps, 13, "hash_of_maps"), (.queue, 22, "queue"), (.stack, 23, "stack"), (.ringBuffer, 27, "ringbuf"),
    ]
    #expect(MapType.allCases.count == expected.count)
    for (type, raw, name) in expected {
        #expect(type.rawValue == raw)
        #expect(type.name == name)
        #expect(try MapType.validated(raw, mapName: "m") == type)
    }
}

@Test(arguments: [(UInt32(14), "devmap is not"), (11, "lpm_trie is not"), (10, "lru_percpu_hash is not"),
                  (999, "unknown map type 999 is not")])
func mapUnsupportedTypeNamesTheType(raw: UInt32, text: String) {
    let error = expectErrno(-EINVAL) { () throws(MapError) in _ = try MapType.validated(raw, mapName: "events") }
    #expect(error?.reason == .unsupportedType(raw))
    #expect(error?.description.contains("map 'events'") == true)
    #expect(error?.description.contains(text) == true)
    #expect(error?.description.contains("ringbuf") == true)  // lists what is supported
}

struct MapInvalidDefinition: Sendable, CustomTestStringConvertible {
    let label: String
    let definition: MapDefinition
    let errno: Int32
    let text: String
    var testDescription: String { label }
}

private let mapInvalidDefinitions: [MapInvalidDefinition] = {
    func def(_ type: MapType, _ key: Int, _ value: Int, _ entries: Int, _ flags: UInt32 = 0) -> MapDefinition {
        MapDefinition(name: "bad", type: type, keySize: key, valueSize: value, maxEntries: entries, flags: flags)
    }
    return [
        .init(label: "hash key size 0", definition: def(.hash, 0, 8, 4), errno: -EINVAL, text: "key_size"),
        .init(label: "hash value size 0", definition: def(.hash, 4, 0, 4), errno: -EINVAL, text: "value_size"),
        .init(label: "hash key too large", definition: def(.hash, 513, 8, 4), errno: -E2BIG, text: "key_size 513"),
        .init(label: "lru max_entries 0", definition: def(.lruHash, 4, 8, 0), errno: -EINVAL, text: "max_entries"),
        .init(label: "array key size 8", definition: def(.array, 8, 8, 4), errno: -EINVAL, text: "key_size must be 4"),
        .init(label: "array value size 0", definition: def(.array, 4, 0, 4), errno: -EINVAL, text: "value_size"),
        .init(label: "array max_entries 0", definition: def(.array, 4, 8, 0), errno: -EINVAL, text: "max_entries"),
        .init(label: "negative max_entries", definition: def(.array, 4, 8, -1), errno: -EINVAL, text: "max_entries"),
        .init(label: "per-thread value too large", definition: def(.perThreadArray, 4, 40_000, 1), errno: -E2BIG,
              text: "value_size 40000"),
        .init(label: "prog_array value size", definition: def(.programArray, 4, 8, 4), errno: -EINVAL, text: "prog_array"),
        .init(label: "queue with a key", definition: def(.queue, 4, 8, 4), errno: -EINVAL, text: "key_size must be 0"),
        .init(label: "stack value size 0", definition: def(.stack, 0, 0, 4), errno: -EINVAL, text: "value_size"),
        .init(label: "ringbuf not a power of 2", definition: def(.ringBuffer, 0, 0, 3 * 4096), errno: -EINVAL,
              text: "power of 2"),
        .init(label: "ringbuf below a page", definition: def(.ringBuffer, 0, 0, 1024), errno: -EINVAL, text: "page size"),
        .init(label: "ringbuf with a key", definition: def(.ringBuffer, 4, 0, 4096), errno: -EINVAL, text: "key_size"),
        .init(label: "unknown flag", definition: def(.hash, 4, 8, 4, 0x8000), errno: -EINVAL, text: "0x8000"),
        .init(label: "mmapable hash", definition: def(.hash, 4, 8, 4, 0x400), errno: -EINVAL, text: "0x400"),
        .init(label: "no-prealloc LRU", definition: def(.lruHash, 4, 8, 4, 0x1), errno: -EINVAL, text: "lru_hash"),
        .init(label: "rdonly and wronly prog", definition: def(.array, 4, 8, 4, 0x180), errno: -EINVAL,
              text: "mutually exclusive"),
        .init(label: "ringbuf rdonly prog", definition: def(.ringBuffer, 0, 0, 4096, 0x80), errno: -EINVAL, text: "ringbuf"),
        .init(label: "syscall-side rdonly", definition: def(.array, 4, 8, 4, 0x8), errno: -EINVAL, text: "0x8"),
        .init(label: "absurd array", definition: def(.array, 4, 1 << 22, Int(UInt32.max)), errno: -E2BIG, text: "storage"),
    ]
}()

@Test(arguments: mapInvalidDefinitions)
func mapRejectsInvalidDefinitions(_ testCase: MapInvalidDefinition) {
    let error = expectErrno(testCase.errno) { () throws(MapError) in _ = try Map(testCase.definition) }
    #expect(error?.mapName == "bad")
    #expect(error?.description.contains(testCase.text) == true, "\(error.map(String.init(describing:)) ?? "")")
}

@Test func mapAcceptsKernelFlags() throws {
    // .rodata as libbpf creates it (BPF_F_MMAPABLE | BPF_F_RDONLY_PROG), .data, a NUMA hint, an LRU option.
    let rodata = try makeMap(.array, value: 24, entries: 1, flags: 0x480)
    #expect(rodata.isReadOnlyForPrograms)
    #expect(try !makeMap(.array, flags: 0x400).isReadOnlyForPrograms)
    _ = try makeMap(.hash, flags: 0x1 | 0x4 | 0x40)
    _ = try makeMap(.lruHash, flags: 0x2)
    #expect(try makeMap(.perThreadArray, flags: 0x100).isWriteOnlyForPrograms)
    _ = try Map(MapDefinition(name: "rb", type: .ringBuffer, keySize: 0, valueSize: 0, maxEntries: 1 << 16))
}

// MARK: - Arrays

@Test(arguments: arrayTypes)
func mapArrayValuesAreZeroedAlignedAndBounded(type: MapType) throws {
    let map = try makeMap(type, value: 12, entries: 5)
    for index in UInt32(0)..<5 {
        let pointer = try #require(rawLookup(map, bytes(index)))
        #expect(UInt(bitPattern: pointer) % 8 == 0)
        #expect(UnsafeRawBufferPointer(start: pointer, count: 12).allSatisfy { $0 == 0 })
        #expect(map.lookup(bytes(index)) == [UInt8](repeating: 0, count: 12))
    }
    #expect(rawLookup(map, bytes(UInt32(5))) == nil)
    #expect(rawLookup(map, bytes(UInt32.max)) == nil)
    #expect(map.lookup(bytes(UInt32(5))) == nil)
    // Distinct slots 16 bytes apart (12 rounded up to 8).
    let first = try #require(rawLookup(map, bytes(UInt32(0))))
    let second = try #require(rawLookup(map, bytes(UInt32(1))))
    #expect(second - first == 16)
    #expect(map.count == 5)
}

@Test(arguments: arrayTypes)
func mapArrayUpdateFollowsKernelFlags(type: MapType) throws {
    let map = try makeMap(type, entries: 4)
    try rawUpdate(map, bytes(UInt32(1)), bytes(UInt64(7)), flags: 0)
    #expect(u64(map.lookup(bytes(UInt32(1)))) == 7)
    try rawUpdate(map, bytes(UInt32(1)), bytes(UInt64(8)), flags: 2)  // BPF_EXIST: every index exists
    #expect(u64(map.lookup(bytes(UInt32(1)))) == 8)
    try map.update(bytes(UInt32(2)), bytes(UInt64(9)), flags: .exist)
    #expect(u64(map.lookup(bytes(UInt32(2)))) == 9)
    expectErrno(-EEXIST) { () throws(MapError) in try rawUpdate(map, bytes(UInt32(0)), bytes(UInt64(1)), flags: 1) }
    expectErrno(-EEXIST) { () throws(MapError) in try map.update(bytes(UInt32(3)), bytes(UInt64(1)), flags: .noExist) }
    expectErrno(-E2BIG) { () throws(MapError) in try rawUpdate(map, bytes(UInt32(4)), bytes(UInt64(1))) }
    // Bad flags are checked before the index, as in the kernel.
    expectErrno(-EINVAL) { () throws(MapError) in try rawUpdate(map, bytes(UInt32(4)), bytes(UInt64(1)), flags: 3) }
    let lock = expectErrno(-EINVAL) { () throws(MapError) in
        try rawUpdate(map, bytes(UInt32(0)), bytes(UInt64(1)), flags: MapUpdateFlags.lockBit)
    }
    #expect(lock?.description.contains("BPF_F_LOCK") == true)
    expectErrno(-EINVAL) { () throws(MapError) in try rawDelete(map, bytes(UInt32(0))) }
    expectErrno(-EINVAL) { () throws(MapError) in try map.delete(bytes(UInt32(0))) }
    #expect(u64(map.lookup(bytes(UInt32(1)))) == 8)
}

@Test(arguments: arrayTypes + [MapType.programArray])
func mapArrayIterationCoversEveryIndex(type: MapType) throws {
    let map = try makeMap(type, value: type == .programArray ? 4 : 8, entries: 3)
    #expect(map.nextKey(after: nil) == bytes(UInt32(0)))
    #expect(map.nextKey(after: bytes(UInt32(0))) == bytes(UInt32(1)))
    #expect(map.nextKey(after: bytes(UInt32(1))) == bytes(UInt32(2)))
    #expect(map.nextKey(after: bytes(UInt32(2))) == nil)
    #expect(map.nextKey(after: bytes(UInt32(77))) == bytes(UInt32(0)))  // out of range restarts
    #expect(map.nextKey(after: [1, 2]) == nil)  // wrong length
    #expect(map.keys == [bytes(UInt32(0)), bytes(UInt32(1)), bytes(UInt32(2))])
}

@Test func mapArrayLayoutDescribesTheValues() throws {
    let map = try makeMap(.array, value: 20, entries: 3)
    let layout = try #require(map.arrayLayout)
    #expect(layout.valueStride == 24)
    #expect(layout.maxEntries == 3)
    #expect(rawLookup(map, bytes(UInt32(2))) == layout.values + 48)
    #expect(try makeMap(.perThreadArray).arrayLayout == nil)
    #expect(try makeMap(.hash).arrayLayout == nil)
}

// MARK: - Hash maps

@Test(arguments: hashTypes)
func mapHashInsertLookupUpdateDelete(type: MapType) throws {
    let map = try makeMap(type, entries: 8)
    #expect(map.lookup(bytes(UInt32(1))) == nil)
    #expect(rawLookup(map, bytes(UInt32(1))) == nil)
    try map.update(bytes(UInt32(1)), bytes(UInt64(100)))
    try rawUpdate(map, bytes(UInt32(2)), bytes(UInt64(200)))
    #expect(u64(map.lookup(bytes(UInt32(1)))) == 100)
    #expect(u64(map.lookup(bytes(UInt32(2)))) == 200)
    #expect(rawLookup(map, bytes(UInt32(2)))?.load(as: UInt64.self) == 200)
    #expect(map.count == 2)
    try rawUpdate(map, bytes(UInt32(1)), bytes(UInt64(101)), flags: 2)
    #expect(u64(map.lookup(bytes(UInt32(1)))) == 101)
    try map.delete(bytes(UInt32(1)))
    #expect(map.lookup(bytes(UInt32(1))) == nil)
    #expect(rawLookup(map, bytes(UInt32(1))) == nil)
    #expect(map.count == 1)
    expectErrno(-ENOENT) { () throws(MapError) in try map.delete(bytes(UInt32(1))) }
    expectErrno(-ENOENT) { () throws(MapError) in try rawDelete(map, bytes(UInt32(99))) }
    try rawDelete(map, bytes(UInt32(2)))
    #expect(map.count == 0)
    #expect(map.keys.isEmpty)
    #expect(map.nextKey(after: nil) == nil)
}

@Test(arguments: hashTypes)
func mapHashUpdateFollowsKernelFlags(type: MapType) throws {
    let map = try makeMap(type, entries: 4)
    expectErrno(-ENOENT) { () throws(MapError) in try rawUpdate(map, bytes(UInt32(1)), bytes(UInt64(1)), flags: 2) }
    try rawUpdate(map, bytes(UInt32(1)), bytes(UInt64(1)), flags: 1)
    let exists = expectErrno(-EEXIST) { () throws(MapError) in
        try rawUpdate(map, bytes(UInt32(1)), bytes(UInt64(2)), flags: 1)
    }
    #expect(exists?.reason == .keyExists)
    #expect(u64(map.lookup(bytes(UInt32(1)))) == 1)
    try map.update(bytes(UInt32(1)), bytes(UInt64(3)), flags: .exist)
    try map.update(bytes(UInt32(1)), bytes(UInt64(4)), flags: .any)
    #expect(u64(map.lookup(bytes(UInt32(1)))) == 4)
    for flags: UInt64 in [3, 4, 5, 8, 1 << 40] {
        expectErrno(-EINVAL) { () throws(MapError) in try rawUpdate(map, bytes(UInt32(1)), bytes(UInt64(5)), flags: flags) }
    }
    #expect(u64(map.lookup(bytes(UInt32(1)))) == 4)
}

@Test(arguments: [MapType.hash, .perThreadHash])
func mapHashFullFailsWithE2BIG(type: MapType) throws {
    let map = try makeMap(type, entries: 4)
    for key in UInt32(0)..<4 { try rawUpdate(map, bytes(key), bytes(UInt64(key))) }
    let full = expectErrno(-E2BIG) { () throws(MapError) in try rawUpdate(map, bytes(UInt32(4)), bytes(UInt64(4))) }
    #expect(full?.reason == .full)
    // Flag checks come first, and replacing an existing key needs no free element.
    expectErrno(-ENOENT) { () throws(MapError) in try rawUpdate(map, bytes(UInt32(4)), bytes(UInt64(4)), flags: 2) }
    expectErrno(-EEXIST) { () throws(MapError) in try rawUpdate(map, bytes(UInt32(3)), bytes(UInt64(4)), flags: 1) }
    try rawUpdate(map, bytes(UInt32(3)), bytes(UInt64(33)))
    #expect(u64(map.lookup(bytes(UInt32(3)))) == 33)
    try map.delete(bytes(UInt32(0)))
    try rawUpdate(map, bytes(UInt32(4)), bytes(UInt64(4)))
    #expect(Set(map.keys) == Set([1, 2, 3, 4].map { bytes(UInt32($0)) }))
}

@Test(arguments: hashTypes)
func mapHashIterationVisitsEveryKeyOnce(type: MapType) throws {
    let map = try makeMap(type, key: 8, entries: 1000)
    let inserted = (0..<1000).map { UInt64($0) &* 0x9E37_79B9 }
    for key in inserted { try map.update(bytes(key), bytes(key ^ 0xFF)) }
    var seen: [[UInt8]] = []
    var cursor = map.nextKey(after: nil)
    while let key = cursor {
        seen.append(key)
        #expect(seen.count <= 1000)
        if seen.count > 1000 { break }
        cursor = map.nextKey(after: key)
    }
    #expect(seen.count == 1000)
    #expect(Set(seen) == Set(inserted.map { bytes($0) }))
    #expect(map.keys == seen)  // the snapshot uses the same order
    #expect(map.nextKey(after: bytes(UInt64(12345))) == seen.first)  // a missing key restarts
    for key in seen { #expect(u64(map.lookup(key)).map { $0 ^ 0xFF } == u64(key)) }
}

@Test func mapHashComparesKeysBytewise() throws {
    let map = try makeMap(.hash, key: 13, value: 4, entries: 64)
    var keys: [[UInt8]] = []
    for index in 0..<13 {
        var key = [UInt8](repeating: 0xAB, count: 13)
        key[index] = 0xAC
        keys.append(key)
        try map.update(key, bytes(UInt32(index)))
    }
    try map.update([UInt8](repeating: 0xAB, count: 13), bytes(UInt32(99)))
    #expect(map.count == 14)
    for (index, key) in keys.enumerated() { #expect(map.lookup(key) == bytes(UInt32(index))) }
    #expect(map.lookup([UInt8](repeating: 0xAB, count: 13)) == bytes(UInt32(99)))
    #expect(map.lookup([UInt8](repeating: 0xAC, count: 13)) == nil)
}

@Test func mapKeyHashSpreadsSmallKeys() {
    // Sequential integer keys must not pile into a few buckets.
    var buckets = Set<UInt32>()
    for key in UInt32(0)..<1024 {
        buckets.insert(withUnsafeBytes(of: key) { KeyHashing.hash($0.baseAddress!, count: 4) } & 1023)
    }
    #expect(buckets.count > 550)
}

@Test(arguments: MapType.allCases.filter { $0 != .ringBuffer })
func mapHostInterfaceChecksLengths(type: MapType) throws {
    let keySize = type == .queue || type == .stack ? 0 : 4
    let valueSize = [.programArray, .perfEventArray, .cgroupArray, .arrayOfMaps, .hashOfMaps].contains(type) ? 4 : 8
    let inner = MapDefinition(name: "inner", type: .array, keySize: 4, valueSize: 8, maxEntries: 1)
    let map = try Map(MapDefinition(name: "test", type: type, keySize: keySize, valueSize: valueSize, maxEntries: 4,
                                    innerMap: type.holdsMaps ? inner : nil))
    let wrongKey = expectErrno(-EINVAL) { () throws(MapError) in
        try map.update([UInt8](repeating: 0, count: keySize + 1), [UInt8](repeating: 0, count: valueSize))
    }
    #expect(wrongKey?.reason == .wrongKeySize(expected: keySize, actual: keySize + 1))
    let wrongValue = expectErrno(-EINVAL) { () throws(MapError) in
        try map.update([UInt8](repeating: 0, count: keySize), [UInt8](repeating: 0, count: valueSize - 1))
    }
    #expect(wrongValue?.reason == .wrongValueSize(expected: valueSize, actual: valueSize - 1))
    #expect(wrongValue?.description.contains("value_size is \(valueSize)") == true)
    expectErrno(-EINVAL) { () throws(MapError) in try map.delete([UInt8](repeating: 0, count: keySize + 2)) }
    #expect(map.lookup([UInt8](repeating: 0, count: keySize + 3)) == nil)
    #expect(map.lookupAll([UInt8](repeating: 0, count: keySize + 3)) == nil)
}

@Test func mapTypedConvenience() throws {
    let map = try makeMap(.hash, entries: 4)
    try map.setValue(UInt64(42), forKey: UInt32(7))
    #expect(map.value(forKey: UInt32(7), as: UInt64.self) == 42)
    #expect(map.value(forKey: UInt32(8), as: UInt64.self) == nil)
    #expect(map.value(forKey: UInt32(7), as: UInt32.self) == nil)  // wrong value size
    expectErrno(-EINVAL) { () throws(MapError) in try map.setValue(UInt64(1), forKey: UInt64(7)) }
}

// MARK: - LRU

@Test func mapLRUEvictsTheLeastRecentlyUsedEntry() throws {
    let map = try makeMap(.lruHash, entries: 8)
    for key in UInt32(0)..<8 { try rawUpdate(map, bytes(key), bytes(UInt64(key))) }
    #expect(rawLookup(map, bytes(UInt32(0))) != nil)  // programs' lookups make 0 and 1 recently used
    #expect(rawLookup(map, bytes(UInt32(1))) != nil)
    #expect(map.lookup(bytes(UInt32(2))) != nil)  // the host's do not, as in the kernel
    try rawUpdate(map, bytes(UInt32(8)), bytes(UInt64(8)))  // evicts 2
    #expect(map.count == 8)
    #expect(map.lookup(bytes(UInt32(2))) == nil)
    for key: UInt32 in [0, 1, 3, 4, 5, 6, 7, 8] { #expect(u64(map.lookup(bytes(key))) == UInt64(key)) }
    try rawUpdate(map, bytes(UInt32(9)), bytes(UInt64(9)))  // then 3, the least recently used
    #expect(map.count == 8)
    #expect(Set(map.keys) == Set([0, 1, 4, 5, 6, 7, 8, 9].map { bytes(UInt32($0)) }))
    // Without new references, eviction continues in insertion order, 0 and 1 included.
    for key in UInt32(10)..<16 { try rawUpdate(map, bytes(key), bytes(UInt64(key))) }
    #expect(Set(map.keys) == Set([8, 9, 10, 11, 12, 13, 14, 15].map { bytes(UInt32($0)) }))
}

@Test func mapLRUNeverFailsWhenFull() throws {
    let map = try makeMap(.lruHash, entries: 8)
    for key in UInt32(0)..<100 { try rawUpdate(map, bytes(key), bytes(UInt64(key))) }
    #expect(map.count == 8)
    // Without lookups, LRU order is insertion order: the last eight keys remain.
    #expect(Set(map.keys) == Set((92..<100).map { bytes(UInt32($0)) }))
}

@Test func mapLRUReplacingAKeyEvictsNothing() throws {
    let map = try makeMap(.lruHash, entries: 4)
    for key in UInt32(0)..<4 { try rawUpdate(map, bytes(key), bytes(UInt64(key))) }
    for round in 0..<10 { try rawUpdate(map, bytes(UInt32(2)), bytes(UInt64(round))) }
    #expect(Set(map.keys) == Set((0..<4).map { bytes(UInt32($0)) }))
    expectErrno(-EEXIST) { () throws(MapError) in try rawUpdate(map, bytes(UInt32(2)), bytes(UInt64(1)), flags: 1) }
    expectErrno(-ENOENT) { () throws(MapError) in try rawUpdate(map, bytes(UInt32(9)), bytes(UInt64(1)), flags: 2) }
    // A delete frees an element, so the next insert evicts nothing.
    try map.delete(bytes(UInt32(0)))
    try rawUpdate(map, bytes(UInt32(5)), bytes(UInt64(5)))
    #expect(Set(map.keys) == Set([1, 2, 3, 5].map { bytes(UInt32($0)) }))
}

// MARK: - Per-thread maps

@Test func mapPerThreadSlotsAreConfigured() {
    #expect(Map.threadSlotCount >= 64)
    #expect(Map.threadSlotCount <= 1024)
    let slot = Map.currentThreadSlot
    #expect(slot >= 0 && slot < Map.threadSlotCount)
    #expect(Map.currentThreadSlot == slot)
}

@Test("threads that claim per-thread slots at the same moment get distinct slots, each keeping its own")
func mapPerThreadSlotsClaimedTogether() {
    let count = 16
    let start = DispatchSemaphore(value: 0)
    let claimed = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    let slots = Mutex<[Int: Int]>([:])
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            start.wait()
            let slot = Map.currentThreadSlot
            slots.withLock { $0[index] = slot }
            claimed.signal()
            release.wait()  // every thread holds its slot until all have one
            slots.withLock { if Map.currentThreadSlot != slot { $0[index] = -1 } }
            group.leave()
        }.start()
    }
    for _ in 0..<count { start.signal() }
    for _ in 0..<count { claimed.wait() }
    for _ in 0..<count { release.signal() }
    group.wait()
    let taken = slots.withLock { $0 }
    #expect(taken.count == count && Set(taken.values).count == count, "\(taken)")
    #expect(taken.values.allSatisfy { $0 >= 0 && $0 < Map.threadSlotCount })
}

@Test func mapPerThreadArrayIsolatesThreads() throws {
    let map = try makeMap(.perThreadArray, entries: 2)
    let firstWrote = DispatchSemaphore(value: 0)
    let secondDone = DispatchSemaphore(value: 0)
    let slots = Mutex<[Int: Int]>([:])
    let seen = Mutex<[Int: UInt64]>([:])
    let issues = ThreadIssues()
    mapRunThreads(2) { thread in
        if thread == 1 { firstWrote.wait() }
        let key = bytes(UInt32(1))
        let pointer = rawLookup(map, key)!
        seen.withLock { $0[thread] = pointer.load(as: UInt64.self) }
        issues.run("update") { () throws(MapError) in try rawUpdate(map, key, bytes(UInt64(100 + thread))) }
        slots.withLock { $0[thread] = Map.currentThreadSlot }
        issues.check(pointer.load(as: UInt64.self) == UInt64(100 + thread), "own value on thread \(thread)")
        if thread == 0 {
            firstWrote.signal()
            secondDone.wait()  // keep the slot until the other thread has finished
            issues.check(pointer.load(as: UInt64.self) == 100, "value changed by the other thread")
        } else {
            secondDone.signal()
        }
    }
    #expect(issues.all.isEmpty, "\(issues.all)")
    #expect(seen.withLock { $0 } == [0: 0, 1: 0])
    let (slotA, slotB) = slots.withLock { ($0[0]!, $0[1]!) }
    #expect(slotA != slotB)
    let all = try #require(map.lookupAll(bytes(UInt32(1))))
    #expect(all.count == Map.threadSlotCount)
    #expect(u64(all[slotA]) == 100)
    #expect(u64(all[slotB]) == 101)
    #expect(map.allValues(forKey: UInt32(0), as: UInt64.self)?.allSatisfy { $0 == 0 } == true)
    let other = bytes(UInt32(1)).withUnsafeBytes { map.lookup(key: $0.baseAddress!, threadSlot: slotB) }
    #expect(other?.load(as: UInt64.self) == 101)
    #expect(bytes(UInt32(1)).withUnsafeBytes { map.lookup(key: $0.baseAddress!, threadSlot: Map.threadSlotCount) } == nil)
}

@Test func mapPerThreadHashSharesKeysButNotValues() throws {
    let map = try makeMap(.perThreadHash, entries: 4)
    let inserted = DispatchSemaphore(value: 0)
    let checked = DispatchSemaphore(value: 0)
    let slots = Mutex<[Int]>([0, 0])
    let issues = ThreadIssues()
    mapRunThreads(2) { thread in
        slots.withLock { $0[thread] = Map.currentThreadSlot }
        if thread == 0 {
            issues.run("insert") { () throws(MapError) in try rawUpdate(map, bytes(UInt32(5)), bytes(UInt64(55))) }
            inserted.signal()
            checked.wait()
            issues.check(rawLookup(map, bytes(UInt32(5)))?.load(as: UInt64.self) == 55, "first thread's copy")
        } else {
            inserted.wait()
            // The key exists for every thread; this thread's copy starts zeroed.
            issues.check(rawLookup(map, bytes(UInt32(5)))?.load(as: UInt64.self) == 0, "second thread's copy is zero")
            issues.run("replace") { () throws(MapError) in
                try rawUpdate(map, bytes(UInt32(5)), bytes(UInt64(66)), flags: 2)
            }
            checked.signal()
        }
    }
    #expect(issues.all.isEmpty, "\(issues.all)")
    let (slotA, slotB) = slots.withLock { ($0[0], $0[1]) }
    let all = try #require(map.allValues(forKey: UInt32(5), as: UInt64.self))
    #expect(all[slotA] == 55)
    #expect(all[slotB] == 66)
    #expect(all.reduce(0, +) == 121)
    #expect(map.keys == [bytes(UInt32(5))])
    try map.delete(bytes(UInt32(5)))  // gone for every thread
    #expect(map.lookupAll(bytes(UInt32(5))) == nil)
}

@Test(arguments: [MapType.perThreadArray, .perThreadHash])
func mapPerThreadHostUpdateWritesEveryCopy(type: MapType) throws {
    let map = try makeMap(type, entries: 4)
    try map.setValue(UInt64(9), forKey: UInt32(3))
    #expect(map.allValues(forKey: UInt32(3), as: UInt64.self) == [UInt64](repeating: 9, count: Map.threadSlotCount))
    #expect(map.value(forKey: UInt32(3), as: UInt64.self) == 9)
    // A program update touches only the calling thread's copy.
    try rawUpdate(map, bytes(UInt32(3)), bytes(UInt64(10)))
    let all = try #require(map.allValues(forKey: UInt32(3), as: UInt64.self))
    #expect(all[Map.currentThreadSlot] == 10)
    #expect(all.filter { $0 == 9 }.count == Map.threadSlotCount - 1)
}

// MARK: - Queue and stack

@Test(arguments: [MapType.queue, .stack])
func mapQueueAndStackOrder(type: MapType) throws {
    let map = try makeMap(type, key: 0, entries: 4)
    let isQueue = type == .queue
    for value in UInt64(1)...4 { try map.push(bytes(value)) }
    #expect(map.count == 4)
    #expect(u64(map.peek()) == (isQueue ? 1 : 4))
    #expect(u64(map.lookup([])) == (isQueue ? 1 : 4))  // BPF_MAP_LOOKUP_ELEM peeks
    #expect(map.count == 4)
    let full = expectErrno(-E2BIG) { () throws(MapError) in try map.push(bytes(UInt64(5))) }
    #expect(full?.reason == .full)
    // BPF_EXIST overwrites the oldest element, for stacks too (the kernel's behaviour).
    var five = UInt64(5)
    try map.push(value: &five, flags: 2)
    #expect(map.count == 4)
    var popped: [UInt64] = []
    var value: UInt64 = 0
    while (try? map.pop(into: &value)) != nil { popped.append(value) }
    #expect(popped == (isQueue ? [2, 3, 4, 5] : [5, 4, 3, 2]))
    expectErrno(-ENOENT) { () throws(MapError) in try map.pop(into: &value) }
    let empty = expectErrno(-ENOENT) { () throws(MapError) in try map.peek(into: &value) }
    #expect(empty?.reason == .empty)
    #expect(map.pop() == nil)
    #expect(map.peek() == nil)
    // Host update pushes; wrap-around keeps order.
    for round in UInt64(0)..<10 {
        try map.update([], bytes(round))
        try map.update([], bytes(round + 100))
        #expect(u64(map.pop()) == (isQueue ? round : round + 100))
        #expect(u64(map.pop()) == (isQueue ? round + 100 : round))
    }
}

@Test(arguments: [MapType.queue, .stack])
func mapQueueAndStackRejectOtherOperations(type: MapType) throws {
    let map = try makeMap(type, key: 0, entries: 2)
    var value = UInt64(1)
    expectErrno(-EINVAL) { () throws(MapError) in try map.push(value: &value, flags: 1) }  // BPF_NOEXIST
    expectErrno(-EINVAL) { () throws(MapError) in try map.push(value: &value, flags: 3) }
    expectErrno(-EINVAL) { () throws(MapError) in try rawUpdate(map, [], bytes(value)) }
    expectErrno(-EINVAL) { () throws(MapError) in try rawDelete(map, []) }
    expectErrno(-EINVAL) { () throws(MapError) in try map.delete([]) }
    #expect(rawLookup(map, []) == nil)
    #expect(map.keys.isEmpty)
    #expect(map.nextKey(after: nil) == nil)
    #expect(map.valueRegions.isEmpty)
    // push/pop/peek on other types are EINVAL.
    let hash = try makeMap(.hash)
    expectErrno(-EINVAL) { () throws(MapError) in try hash.push(value: &value, flags: 0) }
    expectErrno(-EINVAL) { () throws(MapError) in try hash.pop(into: &value) }
    expectErrno(-EINVAL) { () throws(MapError) in try hash.peek(into: &value) }
}

// MARK: - Ring buffer

private func makeRing(_ size: Int = 4096) throws -> Map {
    try Map(MapDefinition(name: "events", type: .ringBuffer, keySize: 0, valueSize: 0, maxEntries: size))
}

@Test func mapRingBufferReserveSubmitDiscardConsume() throws {
    let ring = try makeRing()
    for index in 0..<4 {
        let sample = try #require(ring.reserve(size: 12, flags: 0))
        #expect(UInt(bitPattern: sample) % 8 == 0)
        sample.initializeMemory(as: UInt8.self, repeating: UInt8(index), count: 12)
        if index == 2 { Map.discard(sample, flags: 0) } else { Map.submit(sample, flags: 0) }
    }
    try ring.output([9, 8, 7], flags: 0)
    try ring.output([], flags: 1)  // an empty record is still a record
    var records: [[UInt8]] = []
    let count = ring.consume { records.append(Array($0)) }
    #expect(count == 5)
    #expect(records == [[UInt8](repeating: 0, count: 12), [UInt8](repeating: 1, count: 12),
                        [UInt8](repeating: 3, count: 12), [9, 8, 7], []])
    #expect(ring.consume { _ in Issue.record("nothing left") } == 0)
    #expect(ring.query(0) == 0)
}

@Test func mapRingBufferConsumerStopsAtBusyRecords() throws {
    let ring = try makeRing()
    let first = try #require(ring.reserve(size: 8, flags: 0))
    let second = try #require(ring.reserve(size: 8, flags: 0))
    second.storeBytes(of: UInt64(2), as: UInt64.self)
    Map.submit(second, flags: 0)
    #expect(ring.consumeAll().isEmpty)  // the first record is still being written
    first.storeBytes(of: UInt64(1), as: UInt64.self)
    Map.submit(first, flags: 2)
    #expect(ring.consumeAll().map { u64($0) } == [1, 2])
}

@Test func mapRingBufferQueryReportsPositions() throws {
    let ring = try makeRing()
    #expect(ring.query(1) == 4096)  // BPF_RB_RING_SIZE
    #expect(ring.query(0) == 0)
    let sample = try #require(ring.reserve(size: 10, flags: 0))
    #expect(ring.query(3) == 24)  // 10 + 8-byte header, rounded up to 8
    #expect(ring.query(0) == 24)  // reserved bytes count as available data, as in the kernel
    #expect(ring.query(2) == 0)
    Map.submit(sample, flags: 0)
    #expect(ring.consume { _ in } == 1)
    #expect(ring.query(2) == 24)
    #expect(ring.query(0) == 0)
    #expect(ring.query(99) == 0)
    #expect(ring.count == 0)
}

@Test func mapRingBufferFullAndInvalidRequests() throws {
    let ring = try makeRing()
    // The producer may run at most size - 1 bytes ahead: 4088 + 8 = 4096 does not fit.
    #expect(ring.reserve(size: 4088, flags: 0) == nil)
    #expect(ring.reserve(size: 1 << 20, flags: 0) == nil)
    #expect(ring.reserve(size: -1, flags: 0) == nil)
    #expect(ring.reserve(size: 8, flags: 1) == nil)  // reserve takes no flags
    let big = try #require(ring.reserve(size: 4064, flags: 0))  // 4072 bytes with the header
    #expect(ring.reserve(size: 100, flags: 0) == nil)
    let noSpace = expectErrno(-EAGAIN) { () throws(MapError) in try ring.output([UInt8](repeating: 1, count: 16)) }
    #expect(noSpace?.reason == .noSpace(requested: 16))
    try ring.output([1, 2, 3])  // 16 bytes with the header: still fits
    expectErrno(-EINVAL) { () throws(MapError) in try ring.output([1], flags: 4) }
    Map.submit(big, flags: 0)
    #expect(ring.consumeAll().map(\.count) == [4064, 3])
    #expect(ring.reserve(size: 4080, flags: 0) != nil)  // the largest record that fits, wrapping
    // Ring operations on other maps do nothing.
    let hash = try makeMap(.hash)
    #expect(hash.reserve(size: 8, flags: 0) == nil)
    #expect(hash.query(1) == 0)
    #expect(hash.consume { _ in } == 0)
    expectErrno(-EINVAL) { () throws(MapError) in try hash.output([1], flags: 0) }
    expectErrno(-EINVAL) { () throws(MapError) in try rawUpdate(ring, [], []) }
    #expect(ring.lookup([]) == nil)
    #expect(ring.keys.isEmpty)
}

@Test func mapRingBufferRecordsWrapAroundContiguously() throws {
    let ring = try makeRing()
    // Three 1000-byte records (1008 with the header) put the producer at 3024; the next
    // 2000-byte record straddles the end of the 4096-byte data area.
    for index in 0..<3 { try ring.output([UInt8](repeating: UInt8(index), count: 1000), flags: 0) }
    #expect(ring.consume { _ in } == 3)
    let sample = try #require(ring.reserve(size: 2000, flags: 0))
    let pattern = (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    pattern.withUnsafeBytes { sample.copyMemory(from: $0.baseAddress!, byteCount: 2000) }
    Map.submit(sample, flags: 0)
    #expect(ring.consumeAll() == [pattern])
    // Many rounds of variable records, consumed as they come, keep their contents.
    var produced = 0
    var expected: [[UInt8]] = []
    var received: [[UInt8]] = []
    for round in 0..<2000 {
        let size = (round &* 37) % 700
        let record = (0..<size).map { UInt8(truncatingIfNeeded: round &+ $0) }
        do throws(MapError) {
            try ring.output(record, flags: 0)
            expected.append(record)
            produced += 1
        } catch {
            #expect(error.errno == -EAGAIN)
            ring.consume { received.append(Array($0)) }
            try ring.output(record, flags: 0)
            expected.append(record)
            produced += 1
        }
        if round % 3 == 0 { ring.consume { received.append(Array($0)) } }
    }
    ring.consume { received.append(Array($0)) }
    #expect(received.count == produced)
    #expect(received == expected)
    #expect(ring.query(3) > 100_000)  // positions have wrapped many times
}

@Test func mapRingBufferSubmitFindsTheRingFromTheHeader() throws {
    let ring = try makeRing(1 << 16)
    guard case .ring(let storage) = ring.storage else {
        Issue.record("not a ring buffer storage")
        return
    }
    for size in [0, 8, 5000, 30_000] {
        let sample = try #require(ring.reserve(size: size, flags: 0))
        #expect(RingBuffer.ring(of: sample - 8) == storage.base)
        #expect(ring.valueRegions.contains { $0.contains(UInt(bitPattern: sample), size: size) })
        Map.submit(sample, flags: 0)
    }
    #expect(ring.consume { _ in } == 4)
}

// MARK: - Program arrays

private final class MapTestProgram: Sendable {
    let id: Int
    init(id: Int) { self.id = id }
}

@Test func mapProgramArraySlots() throws {
    let map = try makeMap(.programArray, value: 4, entries: 4)
    let program = MapTestProgram(id: 1)
    try map.setProgram(program, at: 2)
    #expect(map.program(at: 2) === program)
    #expect(map.program(at: 1) == nil)
    #expect(map.program(at: 9) == nil)
    #expect(map.programPointer(at: 2) == UnsafeRawPointer(Unmanaged.passUnretained(program).toOpaque()))
    #expect(map.programPointer(at: 0) == nil)
    #expect(map.programPointer(at: 100) == nil)
    #expect(map.count == 1)
    #expect(rawLookup(map, bytes(UInt32(2))) == nil)
    expectErrno(-E2BIG) { () throws(MapError) in try map.setProgram(program, at: 4) }
    expectErrno(-E2BIG) { () throws(MapError) in try map.setProgram(program, at: -1) }
    expectErrno(-EINVAL) { () throws(MapError) in try map.update(bytes(UInt32(0)), bytes(UInt32(0))) }
    let replacement = MapTestProgram(id: 2)
    try map.setProgram(replacement, at: 2)
    #expect((map.program(at: 2) as? MapTestProgram)?.id == 2)
    try map.delete(bytes(UInt32(2)))
    #expect(map.program(at: 2) == nil)
    expectErrno(-ENOENT) { () throws(MapError) in try map.delete(bytes(UInt32(2))) }
    expectErrno(-E2BIG) { () throws(MapError) in try rawDelete(map, bytes(UInt32(7))) }
    try map.setProgram(program, at: 0)
    map.removeAllPrograms()
    #expect(map.program(at: 0) == nil)
    let array = try makeMap(.array)
    expectErrno(-EINVAL) { () throws(MapError) in try array.setProgram(program, at: 0) }
}

@Test func mapProgramArrayReleasesProgramsWithTheMap() throws {
    weak var weakProgram: MapTestProgram?
    do {
        let map = try makeMap(.programArray, value: 4, entries: 2)
        let program = MapTestProgram(id: 3)
        weakProgram = program
        try map.setProgram(program, at: 0)
        try map.setProgram(nil, at: 0)  // replaced programs stay alive while the map lives
        #expect(weakProgram != nil)
    }
    #expect(weakProgram == nil)
}

// MARK: - Pointers, regions, identity

@Test(arguments: [MapType.hash, .lruHash, .perThreadHash, .array])
func mapLookupPointersStayPut(type: MapType) throws {
    let map = try makeMap(type, entries: 256)
    try map.update(bytes(UInt32(7)), bytes(UInt64(0xDEAD_BEEF)))
    let pointer = try #require(rawLookup(map, bytes(UInt32(7))))
    for round in 0..<40 {
        for key in UInt32(100)..<UInt32(300) where key % 40 != UInt32(round) {
            if type == .array {
                try? rawUpdate(map, bytes(key % 256 == 7 ? 8 : key % 256), bytes(UInt64(key)))
            } else {
                try? rawUpdate(map, bytes(key), bytes(UInt64(key)))
            }
        }
        if type != .array {
            for key in UInt32(100)..<UInt32(300) { try? rawDelete(map, bytes(key)) }
        }
        if type == .lruHash { _ = rawLookup(map, bytes(UInt32(7))) }  // keep it recent
        #expect(rawLookup(map, bytes(UInt32(7))) == pointer)
    }
    #expect(pointer.load(as: UInt64.self) == 0xDEAD_BEEF)
    #expect(map.valueRegions.contains { $0.contains(UInt(bitPattern: pointer), size: 8) })
}

@Test func mapValueRegionsAndReadOnlyMaps() throws {
    let rodata = try makeMap(.array, value: 16, entries: 1, flags: 0x480)
    try rodata.update(bytes(UInt32(0)), [UInt8](repeating: 1, count: 16))  // the loader initialises it
    let regions = rodata.valueRegions
    #expect(regions.count == 1)
    #expect(regions[0].isWritable == false)
    #expect(regions[0].count >= 16)
    let readOnly = expectErrno(-EPERM) { () throws(MapError) in
        try rawUpdate(rodata, bytes(UInt32(0)), [UInt8](repeating: 2, count: 16))
    }
    #expect(readOnly?.description.contains("BPF_F_RDONLY_PROG") == true)
    let data = try makeMap(.hash, entries: 4)
    #expect(data.valueRegions.allSatisfy { $0.isWritable })
    #expect(try makeMap(.programArray, value: 4).valueRegions.isEmpty)
    let perThread = try makeMap(.perThreadArray, entries: 2)
    #expect(perThread.valueRegions[0].count >= 16 * Map.threadSlotCount)
}

@Test func mapFreezeStopsHostWrites() throws {
    let map = try makeMap(.array, entries: 2)
    #expect(!map.isFrozen)
    map.freeze()
    #expect(map.isFrozen)
    expectErrno(-EPERM) { () throws(MapError) in try map.update(bytes(UInt32(0)), bytes(UInt64(1))) }
    try rawUpdate(map, bytes(UInt32(0)), bytes(UInt64(2)))  // programs still may
    #expect(u64(map.lookup(bytes(UInt32(0)))) == 2)
    let queue = try makeMap(.queue, key: 0, entries: 2)
    queue.freeze()
    expectErrno(-EPERM) { () throws(MapError) in try queue.push(bytes(UInt64(1))) }
}

@Test func mapDescriptionFollowsBpftool() throws {
    let map = try makeMap(.hash, entries: 1024, flags: 0x40, name: "counts")
    #expect(map.description == "hash  name counts  flags 0x40  key 4B  value 8B  max_entries 1024")
}

@Test func mapOpaquePointerRoundTrip() throws {
    let map = try makeMap(.array, entries: 2)
    try map.update(bytes(UInt32(1)), bytes(UInt64(5)))
    let opaque = map.opaquePointer
    #expect(Map.fromOpaque(opaque) === map)
    #expect(opaque == Unmanaged.passUnretained(map).toOpaque())
    let value = bytes(UInt32(1)).withUnsafeBytes { Map.lookup(opaque, key: $0.baseAddress!) }
    #expect(value?.load(as: UInt64.self) == 5)
}

@Test func mapErrorsCarryKernelErrnos() {
    let cases: [(MapError.Reason, Int32)] = [
        (.invalidDefinition("x"), -EINVAL), (.tooLarge("x"), -E2BIG), (.unsupportedType(4), -EINVAL),
        (.invalidFlags(8, expected: "0"), -EINVAL), (.wrongKeySize(expected: 4, actual: 2), -EINVAL),
        (.wrongValueSize(expected: 4, actual: 2), -EINVAL), (.keyExists, -EEXIST), (.noSuchKey, -ENOENT),
        (.full, -E2BIG), (.indexOutOfRange(9, maxEntries: 4), -E2BIG), (.empty, -ENOENT),
        (.noSpace(requested: 8), -EAGAIN), (.unsupportedOperation("x"), -EINVAL), (.readOnly("x"), -EPERM),
        (.outOfMemory(bytes: 1), -ENOMEM),
    ]
    for (reason, errno) in cases {
        let error = MapError(mapName: "counts", reason: reason)
        #expect(error.errno == errno, "\(reason)")
        #expect(error.description.hasPrefix("map 'counts': "))
    }
    #expect(MapError(mapName: "a", reason: .indexOutOfRange(9, maxEntries: 4)).description
        == "map 'a': index 9 is out of range (max_entries 4)")
}

// MARK: - Concurrency

@Test func mapHashSurvivesConcurrentUpdatesLookupsAndDeletes() throws {
    let map = try makeMap(.hash, entries: 1024)
    let threads = 4
    let perThread: UInt32 = 200
    let issues = ThreadIssues()
    mapRunThreads(threads) { thread in
        let base = UInt32(thread) * 1000
        for round in 0..<15 {
            for key in base..<(base + perThread) {
                issues.run("insert \(key)") { () throws(MapError) in
                    try rawUpdate(map, bytes(key), bytes(UInt64(key) << 8 | UInt64(round)))
                }
            }
            for key in base..<(base + perThread) {
                let value = rawLookup(map, bytes(key))?.load(as: UInt64.self)
                issues.check(value == UInt64(key) << 8 | UInt64(round), "key \(key) holds \(String(describing: value))")
                // A shared key every thread rewrites: its value always names a real writer.
                issues.run("shared") { () throws(MapError) in
                    try rawUpdate(map, bytes(UInt32(999_999)), bytes(UInt64(thread)))
                }
                let shared = rawLookup(map, bytes(UInt32(999_999)))?.load(as: UInt64.self)
                issues.check(shared.map { $0 < UInt64(threads) } == true, "shared key holds \(String(describing: shared))")
            }
            for key in base..<(base + perThread) where key % 2 == 1 || round < 14 {
                issues.run("delete \(key)") { () throws(MapError) in try rawDelete(map, bytes(key)) }
            }
        }
    }
    #expect(issues.all.isEmpty, "\(issues.all.prefix(5))")
    // Each thread leaves its even keys from the last round.
    #expect(map.count == threads * Int(perThread) / 2 + 1)
    for thread in 0..<threads {
        for key in UInt32(thread * 1000)..<(UInt32(thread * 1000) + perThread) {
            let value = u64(map.lookup(bytes(key)))
            #expect(value == (key % 2 == 0 ? UInt64(key) << 8 | 14 : nil))
        }
    }
}

@Test func mapHashContendedFillNeverExceedsCapacity() throws {
    let map = try makeMap(.hash, entries: 256)
    let inserted = Mutex(0)
    let issues = ThreadIssues()
    mapRunThreads(4) { thread in
        var mine = 0
        for key in UInt32(0)..<400 {
            do throws(MapError) {
                try rawUpdate(map, bytes(key), bytes(UInt64(thread)), flags: 1)
                mine += 1
            } catch {
                issues.check(error.errno == -EEXIST || error.errno == -E2BIG, "\(error)")
            }
        }
        inserted.withLock { $0 += mine }
    }
    #expect(issues.all.isEmpty, "\(issues.all.prefix(5))")
    #expect(inserted.withLock { $0 } == 256)  // every slot taken exactly once
    #expect(map.count == 256)
    #expect(Set(map.keys).count == 256)
}

@Test(arguments: [MapType.hash, .perThreadHash, .lruHash])
func mapHashChurnOnSharedKeysLosesNoElements(type: MapType) throws {
    let map = try makeMap(type, entries: 128)
    let issues = ThreadIssues()
    mapRunThreads(4) { thread in
        var state = UInt32(thread + 1) &* 0x9E37_79B9
        for _ in 0..<6000 {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            let key = state % 160
            switch state >> 29 {
            case 0, 1, 2:
                do throws(MapError) {
                    try rawUpdate(map, bytes(key), bytes(UInt64(key) * 3), flags: UInt64(state >> 30))
                } catch {
                    issues.check([-E2BIG, -EEXIST, -ENOENT].contains(error.errno), "update: \(error)")
                }
            case 3, 4:
                do throws(MapError) { try rawDelete(map, bytes(key)) } catch {
                    issues.check(error.errno == -ENOENT, "delete: \(error)")
                }
            default:
                if let value = rawLookup(map, bytes(key)) {
                    issues.check(value.load(as: UInt64.self) % 3 == 0, "lookup found a value no one wrote")
                }
            }
        }
    }
    #expect(issues.all.isEmpty, "\(issues.all.prefix(5))")
    let keys = map.keys
    #expect(keys.count == map.count)
    #expect(Set(keys).count == keys.count)
    for key in keys {
        // Per-thread maps: the threads that wrote hold key × 3, the other copies stay zeroed.
        let expected = u64(key + [0, 0, 0, 0])! * 3
        let copies = try #require(map.lookupAll(key)).map { u64($0)! }
        #expect(copies.allSatisfy { $0 == expected || (type == .perThreadHash && $0 == 0) }, "key \(key)")
        #expect(copies.contains(expected))
    }
    // Every element came back: after deleting everything the map fills to capacity again.
    for key in keys { try map.delete(key) }
    #expect(map.count == 0)
    #expect(map.nextKey(after: nil) == nil)
    for key in UInt32(1000)..<1128 { try rawUpdate(map, bytes(key), bytes(UInt64(key))) }
    #expect(map.count == 128)
    #expect(Set(map.keys) == Set((1000..<1128).map { bytes(UInt32($0)) }))
}

@Test func mapArrayAtomicIncrementsFromManyThreads() throws {
    let map = try makeMap(.array, entries: 4)
    let perThread = 50_000
    mapRunThreads(4) { thread in
        let pointer = rawLookup(map, bytes(UInt32(thread % 2)))!
        let counter = pointer.assumingMemoryBound(to: Atomic<UInt64>.self)
        for _ in 0..<perThread { counter.pointee.add(1, ordering: .relaxed) }
    }
    #expect(u64(map.lookup(bytes(UInt32(0)))) == UInt64(2 * perThread))
    #expect(u64(map.lookup(bytes(UInt32(1)))) == UInt64(2 * perThread))
}

@Test func mapPerThreadCountersNeedNoAtomics() throws {
    let map = try makeMap(.perThreadArray, entries: 1)
    let perThread = 50_000
    let started = DispatchGroup()
    let release = DispatchSemaphore(value: 0)
    for _ in 0..<4 { started.enter() }
    mapRunThreads(5) { thread in
        if thread == 4 {  // keep the workers alive together so they hold distinct slots
            started.wait()
            for _ in 0..<4 { release.signal() }
            return
        }
        let pointer = rawLookup(map, bytes(UInt32(0)))!
        for _ in 0..<perThread { pointer.storeBytes(of: pointer.load(as: UInt64.self) + 1, as: UInt64.self) }
        started.leave()
        release.wait()
    }
    let copies = try #require(map.allValues(forKey: UInt32(0), as: UInt64.self))
    #expect(copies.reduce(0, +) == UInt64(4 * perThread))
    #expect(copies.filter { $0 > 0 }.count == 4)
}

@Test func mapLRUSurvivesConcurrentChurn() throws {
    let map = try makeMap(.lruHash, entries: 64)
    let issues = ThreadIssues()
    mapRunThreads(4) { thread in
        for round in UInt32(0)..<20_000 {
            let key = (round &* 2_654_435_761 &+ UInt32(thread)) % 500
            issues.run("update") { () throws(MapError) in try rawUpdate(map, bytes(key), bytes(UInt64(key) * 3)) }
            if let value = rawLookup(map, bytes((key &+ 17) % 500)) {
                // A value read while its element is recycled may belong to another key, as in
                // the kernel; it is still some key's value.
                issues.check(value.load(as: UInt64.self) % 3 == 0, "torn value")
            }
            if round % 7 == 0 { try? rawDelete(map, bytes(key)) }
        }
    }
    #expect(issues.all.isEmpty, "\(issues.all.prefix(5))")
    #expect(map.count <= 64)
    #expect(map.keys.count == map.count)
    for key in map.keys { #expect(u64(map.lookup(key)) == u64(key + [0, 0, 0, 0]).map { $0 * 3 }) }
    // After the churn, the map still fills to capacity and evicts.
    for key in UInt32(1000)..<1100 { try rawUpdate(map, bytes(key), bytes(UInt64(key) * 3)) }
    #expect(map.count == 64)
}

@Test func mapQueueConcurrentProducersAndConsumers() throws {
    let map = try makeMap(.queue, key: 0, entries: 64)
    let perProducer = 20_000
    let total = Mutex<(count: Int, sum: UInt64)>((0, 0))
    mapRunThreads(4) { thread in
        if thread < 2 {
            for index in 0..<perProducer {
                var value = UInt64(thread * perProducer + index + 1)
                while (try? map.push(value: &value, flags: 0)) == nil { sched_yield() }
            }
        } else {
            while total.withLock({ $0.count }) < 2 * perProducer {
                var value: UInt64 = 0
                if (try? map.pop(into: &value)) != nil {
                    total.withLock { $0.count += 1; $0.sum += value }
                } else {
                    sched_yield()
                }
            }
        }
    }
    let n = UInt64(2 * perProducer)
    #expect(total.withLock { $0.count } == 2 * perProducer)
    #expect(total.withLock { $0.sum } == n * (n + 1) / 2)
}

@Test func mapRingBufferManyProducersOneConsumer() throws {
    let ring = try makeRing(1 << 14)
    let producers = 3
    let perProducer = 4000
    let done = Mutex(0)
    let received = Mutex<[[UInt64]]>(Array(repeating: [], count: producers))
    mapRunThreads(producers + 1) { thread in
        if thread < producers {
            for sequence in 0..<perProducer {
                let useReserve = sequence % 2 == 0
                while true {
                    if useReserve {
                        if let sample = ring.reserve(size: 16, flags: 0) {
                            sample.storeBytes(of: UInt64(thread), as: UInt64.self)
                            sample.storeBytes(of: UInt64(sequence), toByteOffset: 8, as: UInt64.self)
                            Map.submit(sample, flags: 0)
                            break
                        }
                    } else {
                        var record = (UInt64(thread), UInt64(sequence))
                        if (try? ring.output(&record, size: 16, flags: 0)) != nil { break }
                    }
                    sched_yield()
                }
            }
            done.withLock { $0 += 1 }
        } else {
            var local: [[UInt64]] = Array(repeating: [], count: producers)
            while true {
                let finished = done.withLock { $0 } == producers
                ring.consume { record in
                    local[Int(record.loadUnaligned(as: UInt64.self))].append(
                        record.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                }
                if finished { break }
            }
            ring.consume { record in
                local[Int(record.loadUnaligned(as: UInt64.self))].append(
                    record.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            }
            received.withLock { $0 = local }
        }
    }
    let all = received.withLock { $0 }
    for sequences in all { #expect(sequences == (0..<perProducer).map(UInt64.init)) }
    #expect(ring.query(0) == 0)
}
