extension BTF {
    /// A type on a cycle of pointers, arrays, typedefs, qualifiers, type tags and function
    /// prototypes (following a pointer's target, an array's element, a prototype's return and
    /// parameter types), a cycle no struct or union breaks; or nil.
    ///
    /// The kernel accepts such cycles, since a pointer on them makes every type sized (a pointer
    /// to a prototype that takes that pointer), but C cannot declare them, and printers that
    /// follow these kinds without marking them, as libbpf's C dumper does, recurse forever.
    public func cycleWithoutAggregate() -> UInt32? {
        /// Whether `id` is of a kind the cycle may go through.
        func isUnguarded(_ id: UInt32) -> Bool {
            switch records.code(id) {
            case .pointer, .array, .typedef, .const, .volatile, .restrict, .typeTag, .functionProto: true
            default: false
            }
        }
        /// The `index`-th type unguarded type `id` refers to, or nil past the last.
        func successor(_ id: UInt32, _ index: Int) -> UInt32? {
            switch records.code(id) {
            case .array: index == 0 ? records.dataWord(id, 0) : nil
            case .functionProto:
                index == 0 ? records.sizeOrType(id)
                    : index <= records.vlen(id) ? records.parameter(id, index - 1).type : nil
            default: index == 0 ? records.sizeOrType(id) : nil
            }
        }
        // Iterative depth-first search with three colours: 0 new, 1 on the path, 2 done.
        var colour = [UInt8](repeating: 0, count: records.count)
        var path: [(id: UInt32, next: Int)] = []
        for start in 1..<UInt32(records.count) where colour[Int(start)] == 0 && isUnguarded(start) {
            colour[Int(start)] = 1
            path.append((start, 0))
            while let (id, index) = path.last {
                guard let next = successor(id, index) else {
                    colour[Int(id)] = 2
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                switch colour[Int(next)] {
                case 1: return next
                case 0:
                    guard next != 0, isUnguarded(next) else {
                        colour[Int(next)] = 2
                        continue
                    }
                    colour[Int(next)] = 1
                    path.append((next, 0))
                default: continue
                }
            }
        }
        return nil
    }
}
