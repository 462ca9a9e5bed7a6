import BPFVM

/// Where the tail calls of a compiled program may go: the program arrays of its object, and
/// the compiled entry of each program of the object (compiled together with it). A program
/// array slot holding anything else is a tail call that cannot be made (-ENOENT).
final class TailCallTable: @unchecked Sendable {
    /// The object's program arrays, by the pointer programs hold for them.
    private let arrays: [UInt64: Map]
    /// The entry function's address of each compiled program, by the loaded program's identity.
    private var entries: [ObjectIdentifier: UInt64] = [:]

    init(arrays: [Map]) {
        self.arrays = Dictionary(arrays.map { (UInt64(UInt(bitPattern: $0.opaquePointer)), $0) },
                                 uniquingKeysWith: { first, _ in first })
    }

    /// Makes `program`'s compiled code the target of tail calls to `loaded`.
    func add(_ loaded: AnyObject, entry: UInt64) {
        entries[ObjectIdentifier(loaded)] = entry
    }

    /// The compiled entry of the program at `index` of the program array `map`, or 0.
    func entry(map: UInt64, index: UInt64) -> UInt64 {
        guard let array = arrays[map], index < UInt64(array.definition.maxEntries),
              let pointer = array.programPointer(at: UInt32(index))
        else { return 0 }
        return entries[ObjectIdentifier(Unmanaged<AnyObject>.fromOpaque(pointer).takeUnretainedValue())] ?? 0
    }
}

/// The runtime function compiled code calls to resolve a tail call.
enum TailCalls {
    /// `(run, map, index) -> entry or 0`, through the run's `TailCallTable`.
    static let resolve: @convention(c) (UnsafeMutableRawPointer?, UInt64, UInt64) -> UInt64 = { run, map, index in
        guard let run,
              let source = run.load(fromByteOffset: Int(JITRun.tailCallSourceOffset), as: UnsafeRawPointer?.self)
        else { return 0 }
        return Unmanaged<TailCallTable>.fromOpaque(source).takeUnretainedValue().entry(map: map, index: index)
    }

    static var resolverAddress: UInt64 { UInt64(UInt(bitPattern: unsafeBitCast(resolve, to: UnsafeRawPointer.self))) }
}
