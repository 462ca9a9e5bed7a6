/// Checked mode's guard in front of every helper call: the arguments must match the helper's
/// prototype (registers initialised, map pointers naming real maps, keys, values and buffers
/// inside memory the program may touch), so that a helper never reads or writes where the
/// program itself could not. Trusted mode relies on a verifier for the same facts.
struct HelperArgumentCheck {
    /// Prototypes by id (nil where no helper is registered).
    let helpers: [Helper?]
    /// The key and value sizes of the map behind a map pointer, or nil if the value is no map.
    let mapSizes: ((UInt64) -> (key: Int, value: Int)?)?

    /// The prototypes of `table`, indexed by id.
    static func prototypes(of table: HelperTable) -> [Helper?] {
        var helpers = [Helper?](repeating: nil, count: Int((table.all.map(\.id).max() ?? -1) + 1))
        for helper in table.all { helpers[Int(helper.id)] = helper }
        return helpers
    }

    /// The reason the call of helper `id` with these registers must trap, or nil.
    func check(_ id: UInt64, _ regs: UnsafeMutablePointer<UInt64>, _ initialized: UInt16, _ bounds: AccessBounds)
        -> ExecutionError.Reason?
    {
        guard id < UInt64(helpers.count), let helper = helpers[Int(id)] else { return nil }
        var map: (key: Int, value: Int)?
        for (position, kind) in helper.arguments.enumerated() {
            let register = position + 1
            if let reason = checkRead(register, initialized) { return reason }
            let value = regs[register]
            func bad(_ problem: String) -> ExecutionError.Reason {
                .invalidHelperArgument(helper: helper.name, register: register, problem: problem)
            }
            func memory(_ size: Int, isWrite: Bool) -> ExecutionError.Reason? {
                guard size > 0 else { return nil }
                if let reason = bounds.check(value, size: size, isWrite: isWrite) {
                    return bad("\(size) bytes at 0x\(hex(value)): \(ExecutionError(index: 0, reason: reason).problem)")
                }
                return nil
            }
            switch kind {
            case .mapPointer:
                guard let sizes = mapSizes?(value) else { return bad("0x\(hex(value)) is not a map") }
                map = sizes
            case .mapKey:
                if let map, let reason = memory(map.key, isWrite: false) { return reason }
            case .mapValue:
                if let map, let reason = memory(map.value, isWrite: false) { return reason }
            case .uninitializedMapValue:
                if let map, let reason = memory(map.value, isWrite: true) { return reason }
            case .readableMemory, .writableMemory:
                // The size is the next argument.
                guard position + 1 < helper.arguments.count else { continue }
                if let reason = checkRead(register + 1, initialized) { return reason }
                let size = regs[register + 1]
                guard size <= UInt64(Int32.max) else { return bad("size \(size) is too large") }
                if let reason = memory(Int(size), isWrite: kind == .writableMemory) { return reason }
            case .constantString:
                guard let length = bounds.accessibleLength(from: value),
                      let pointer = UnsafeRawPointer(bitPattern: UInt(truncatingIfNeeded: value)),
                      UnsafeRawBufferPointer(start: pointer, count: length).contains(0)
                else { return bad("0x\(hex(value)) is not a NUL-terminated string in accessible memory") }
            case .ringBufferSample:
                if bounds.check(value &- 8, size: 8, isWrite: true) != nil {
                    return bad("0x\(hex(value)) is not a ring buffer record")
                }
            case .anything, .size, .context, .callback, .scalar:
                continue
            }
        }
        return nil
    }
}

extension AccessBounds {
    /// How many bytes from `address` on the program may read, if any.
    func accessibleLength(from address: UInt64) -> Int? {
        let start = UInt(truncatingIfNeeded: address)
        if start >= stackLow && start < stackHigh { return Int(stackHigh - start) }
        for region in regions where region.contains(start, size: 1) {
            return region.count - Int(start - region.start)
        }
        return nil
    }
}
