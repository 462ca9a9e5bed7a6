import BPFVM
import FuzzSupport

/// Parses arbitrary bytes as a BPF ELF object; errors are expected, crashes and hangs are bugs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let file = try? ELFFile(bytes: bytes) else { return 0 }
    // Exercise the accessors and check the guarantees a validated file makes; a failed check is a bug.
    for section in file.sections {
        let data = file.data(of: section)
        precondition(section.isNoBits || section.type == 0 || data.count == section.size)
        for relocation in file.relocations(for: section) {
            let width = ELFRelocation.patchWidth(of: relocation.type)
            precondition(width != nil && file.symbols.indices.contains(relocation.symbolIndex))
            precondition(section.isCompressed || relocation.offset + UInt64(width!) <= UInt64(section.size))
        }
    }
    for symbol in file.symbols {
        precondition(symbol.sectionIndex < file.sections.count || symbol.sectionIndex >= 0xfff1)
    }
    precondition(file.section(named: file.sections[0].name) != nil)
    return 0
}

/// The entry SwiftPM's linker flags point `main` at; see ``runLibFuzzer(argc:argv:callback:)``.
@_cdecl("FuzzELF_main")
func fuzzELFMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv, callback: fuzz)
}
