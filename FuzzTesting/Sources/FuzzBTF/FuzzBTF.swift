import BPFVM
import FuzzSupport

/// Parses arbitrary bytes as `.BTF` and, when that succeeds, the rest as `.BTF.ext` against it; errors are
/// expected, crashes and hangs are bugs.
///
/// Input layout: a little-endian `u32` length `n`, then `n` bytes of `.BTF`, then the `.BTF.ext` bytes. When `n`
/// exceeds what follows, the whole input is `.BTF` (so raw `.BTF` sections work as seeds too).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    var btfBytes = input
    var extBytes: [UInt8] = []
    if input.count >= 4 {
        let length = Int(input[0]) | Int(input[1]) << 8 | Int(input[2]) << 16 | Int(input[3]) << 24
        if length <= input.count - 4 {
            btfBytes = Array(input[4..<4 + length])
            extBytes = Array(input[(4 + length)...])
        }
    }
    guard let btf = try? BTF(bytes: btfBytes) else { return 0 }
    // The queries promise to terminate on any validated BTF; exercise them on the first types.
    for type in btf.types.prefix(64) {
        _ = btf.resolvedSize(of: type.id)
        _ = btf.skippingQualifiers(type.id)
        _ = btf.functionProto(of: type.id)
        let members = btf.members(of: type.id)
        if let first = members.first(where: { !$0.name.isEmpty }) {
            precondition(btf.member(named: first.name, in: type.id) != nil)
        }
        precondition(btf.type(type.id) == type)
    }
    if !extBytes.isEmpty, let ext = try? BTFExt(bytes: extBytes, btf: btf) {
        for relocations in ext.coreRelocations.values {
            for relocation in relocations { _ = relocation.accessIndices }
        }
    }
    return 0
}

/// The entry SwiftPM's linker flags point `main` at; see ``runLibFuzzer(argc:argv:callback:)``.
@_cdecl("FuzzBTF_main")
func fuzzBTFMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv, callback: fuzz)
}
