import BPFVM

/// Which maps a helper may be given and which helpers a map may be given to: the kernel's
/// `check_map_func_compatibility`, keyed by kernel map type numbers so that map types this
/// runtime gains later fall under the same table.
enum MapCompatibility {
    /// The helpers (by id) that special map types may be passed to; map types absent here are
    /// the general key/value maps any map helper takes.
    private static let helpersOfMapType: [UInt32: Set<Int32>] = [
        3: [12],                                   // prog_array: tail_call
        4: [22, 25, 55, 121],                      // perf_event_array: perf_event_read(_value), perf_event_output, xdp_output
        7: [27, 67],                               // stack_trace: get_stackid (and get_stack takes none)
        8: [33, 37],                               // cgroup_array: skb_under_cgroup, current_task_under_cgroup
        12: [1],                                   // array_of_maps: lookup
        13: [1],                                   // hash_of_maps: lookup
        22: [87, 88, 89],                          // queue: push, pop, peek
        23: [87, 88, 89],                          // stack: push, pop, peek
        27: [130, 131, 134],                       // ringbuf: output, reserve, query
    ]

    /// The map types (kernel numbers) a helper requires, for helpers made for one kind of map.
    private static let mapTypesOfHelper: [Int32: Set<UInt32>] = [
        12: [3],
        22: [4], 25: [4], 55: [4], 121: [4],
        27: [7],
        33: [8], 37: [8],
        87: [22, 23], 88: [22, 23], 89: [22, 23],
        130: [27], 131: [27], 134: [27],
    ]

    /// Whether `helper` may be given a map of kernel type `mapType`.
    static func allows(helper: Int32, mapType: UInt32) -> Bool {
        if let helpers = helpersOfMapType[mapType], !helpers.contains(helper) { return false }
        if let types = mapTypesOfHelper[helper], !types.contains(mapType) { return false }
        return true
    }
}
