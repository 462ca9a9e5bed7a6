extension BTF {
    /// A type on a cycle of pointers, arrays, typedefs, qualifiers, type tags and function
    /// prototypes (following a pointer's target, an array's element, a prototype's return and
    /// parameter types), a cycle no struct or union breaks; or nil.
    ///
    /// The kernel accepts such cycles, since a pointer on them makes every type sized (a pointer
    /// to a prototype that takes that pointer), but C cannot declare them, and printers that
    /// follow these kinds without marking them, as libbpf's C dumper does, recurse forever.
    public func cycleWithoutAggregate() -> UInt32? {
        /// Whether a type of kind `code` is one the cycle may go through.
        func isUnguarded(_ code: BTFKind.Code) -> Bool {
            switch code {
            case .pointer, .array, .typedef, .const, .volatile, .restrict, .typeTag, .functionProto: true
            default: false
            }
        }
        /// The `index`-th type the unguarded type `id` (of kind `code`) refers to, or nil past the last.
        func successor(_ id: UInt32, _ code: BTFKind.Code, _ index: Int) -> UInt32? {
            switch code {
            case .array: index == 0 ? records.dataWord(id, 0) : nil
            case .functionProto:
                index == 0 ? records.sizeOrType(id)
                    : index <= records.vlen(id) ? records.parameter(id, index - 1).type : nil
            default: index == 0 ? records.sizeOrType(id) : nil
            }
        }
        // Iterative depth-first search with three colours: 0 new, 1 on the path, 2 done.
        var colour = [UInt8](repeating: 0, count: records.count)
        var path: [(id: UInt32, code: BTFKind.Code, next: Int)] = []
        for start in 1..<UInt32(records.count) where colour[Int(start)] == 0 {
            let startCode = records.code(start)
            guard isUnguarded(startCode) else { continue }
            colour[Int(start)] = 1
            path.append((start, startCode, 0))
            while let (id, code, index) = path.last {
                guard let next = successor(id, code, index) else {
                    colour[Int(id)] = 2
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                switch colour[Int(next)] {
                case 1: return next
                case 0:
                    let nextCode = records.code(next)
                    guard next != 0, isUnguarded(nextCode) else {
                        colour[Int(next)] = 2
                        continue
                    }
                    colour[Int(next)] = 1
                    path.append((next, nextCode, 0))
                default: continue
                }
            }
        }
        return nil
    }
}
