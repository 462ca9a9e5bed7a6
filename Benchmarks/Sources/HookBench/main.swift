#if canImport(Glibc)
import Glibc
#endif
import Attach
import CAttach
import BPFVM
import HookHost
import HookLoopsRetpoline
import BenchmarkWorkloads

// The cost of a hook per call, in ns and in TSC cycles: a bare call, detached hooks (C and Swift
// static-call), attached trampolines (one empty fexit; one LSM with gate and override; four gated
// LSM programs), and the baselines they argue against (a function-pointer call and LSM-style
// callback lists, plainly and with -mretpoline); then attach and detach latency.

/// The Swift original of the static-call hook.
@_cdecl("bench_static_body")
func benchStaticBody(_ a: Int32, _ b: Int32) -> Int32 { 0 }


/// TSC ticks per nanosecond, measured over 200 ms.
let ticksPerNanosecond: Double = {
    var start = timespec(), end = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    let ticks = bpfrun_cycles()
    usleep(200_000)
    let elapsed = bpfrun_cycles() - ticks
    clock_gettime(CLOCK_MONOTONIC, &end)
    let nanoseconds = Double(end.tv_sec - start.tv_sec) * 1e9 + Double(end.tv_nsec - start.tv_nsec)
    return Double(elapsed) / nanoseconds
}()

/// The fastest of many rounds of `loop(calls)`, per call: (ns, TSC cycles).
func measure(_ loop: (UInt64) -> UInt64) -> (nanoseconds: Double, cycles: Double) {
    let calls: UInt64 = 200_000
    var fastest = UInt64.max
    for _ in 0..<200 {
        let start = bpfrun_cycles()
        _ = loop(calls)
        fastest = min(fastest, bpfrun_cycles() - start)
    }
    let cycles = Double(fastest) / Double(calls)
    return (cycles / ticksPerNanosecond, cycles)
}

var rows: [(String, Double, Double)] = []
@MainActor func row(_ name: String, _ loop: (UInt64) -> UInt64) {
    let (nanoseconds, cycles) = measure(loop)
    rows.append((name, nanoseconds, cycles))
}

#if DEBUG
print("note: a debug build; use `swift run -c release HookBench` for real figures")
#endif
/// The BPF side, compiled by the clang on PATH.
func compiledProgram() -> [UInt8] {
    let source = String(#filePath[..<#filePath.lastIndex(of: "/")!]) + "/Programs/hook_bench.c"
    let output = "/tmp/hook_bench-\(getpid()).o"
    defer { unlink(output) }
    let command = "clang -O2 -g -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu -c '\(source)' -o '\(output)'"
    guard system(command) == 0, let file = fopen(output, "rb") else { fatalError("clang -target bpf failed on \(source)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return bytes
}

let object = try LoadedObject(try Object(bytes: compiledProgram(), name: "hook_bench"))
try object.load()
guard let hostBTF = object.object.btf else { fatalError("hook_bench.c compiled without BTF") }
let table = try HookTable.process(hostBTF: hostBTF)
let callbacks: [bench_callback_fn?] = Array(repeating: bench_callback, count: 4)

row("bare call (noinline function)") { plain_bare($0) }
row("detached C hook (5-byte NOP entry)") { plain_c_hook($0) }
row("detached Swift static-call hook (stub: jmp original)") { plain_static_hook($0) }
row("function-pointer call") { plain_function_pointer($0, bench_callback) }
row("function-pointer call, -mretpoline") { retpoline_function_pointer($0, bench_callback) }
for count in [1, 4] {
    callbacks.withUnsafeBufferPointer { list in
        row("LSM-style list of \(count) indirect callback\(count == 1 ? "" : "s")") { plain_callback_list($0, list.baseAddress, Int32(count)) }
        row("LSM-style list of \(count) indirect callback\(count == 1 ? "" : "s"), -mretpoline") {
            retpoline_callback_list($0, list.baseAddress, Int32(count))
        }
    }
}
var links = [try table.attach(try object.program(named: "empty_fexit"))]
row("C hook, one empty fexit program") { plain_c_hook($0) }
try links[0].close()
links = [try table.attach(try object.program(named: "allow1"))]
row("C hook, one LSM program (gate and override)") { plain_c_hook($0) }
links += try ["allow2", "allow3", "allow4"].map { try table.attach(try object.program(named: $0)) }
row("C hook, four gated LSM programs") { plain_c_hook($0) }
for link in links { try link.close() }
let staticLink = try table.attach(try object.program(named: "static_allow"))
row("Swift static-call hook, one LSM program") { plain_static_hook($0) }
try staticLink.close()
row("C hook detached again") { plain_c_hook($0) }

print("| case | ns/call | TSC cycles/call |")
print("|---|---:|---:|")
for (name, nanoseconds, cycles) in rows {
    print("| \(name) | \(fixed(nanoseconds, 2)) | \(fixed(cycles, 1)) |")
}
print("(TSC at \(fixed(ticksPerNanosecond, 2)) GHz; each figure the fastest of 200 rounds of 200,000 calls, loop included)")

// Attach (verify, compile, generate, patch) and detach latency, and the patching alone.
let program = try object.program(named: "allow1")
var attachTimes: [Double] = [], detachTimes: [Double] = []
let clock = ContinuousClock()
for _ in 0..<200 {
    var link: Link?
    attachTimes.append(Double((clock.measure { link = try? table.attach(program) }).components.attoseconds) / 1e9)
    detachTimes.append(Double((clock.measure { try? link?.close() }).components.attoseconds) / 1e9)
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
print("attach (verify + JIT + trampoline + patch + membarrier): median \(fixed(median(attachTimes) / 1000, 1)) µs, min \(fixed(attachTimes.min()! / 1000, 1)) µs")
print("detach (trampoline + patch + membarrier): median \(fixed(median(detachTimes) / 1000, 1)) µs, min \(fixed(detachTimes.min()! / 1000, 1)) µs")
