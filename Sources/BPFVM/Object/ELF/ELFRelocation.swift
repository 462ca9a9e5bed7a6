/// One `Elf64_Rel` entry of a validated ``ELFFile`` (BPF relocations carry no explicit addend).
///
/// `type` is guaranteed to be a BPF relocation type, `symbolIndex` a valid index into ``ELFFile/symbols``, and the
/// bytes the relocation patches (``ELFRelocation/patchWidth(of:)``) to lie inside the target section.
public struct ELFRelocation: Hashable, Sendable {
    /// `r_offset`: the byte offset within the target section (for instructions, index × 8).
    public let offset: UInt64
    /// `ELF64_R_TYPE(r_info)`, e.g. ``ELFRelocation/bpf64_64``.
    public let type: UInt32
    /// `ELF64_R_SYM(r_info)`: the index into ``ELFFile/symbols``.
    public let symbolIndex: Int

    /// No relocation. The corresponding LLVM name is `R_BPF_NONE`.
    public static let bpfNone: UInt32 = 0
    /// `ld_imm64` of a map, global variable or function address; patches the imm of both slots.
    /// The corresponding LLVM name is `R_BPF_64_64`.
    public static let bpf64_64: UInt32 = 1
    /// 64-bit data (DWARF, `.data` pointers, `.maps` values). The corresponding LLVM name is `R_BPF_64_ABS64`.
    public static let bpf64Abs64: UInt32 = 2
    /// 32-bit data (DWARF, some `.BTF` offsets). The corresponding LLVM name is `R_BPF_64_ABS32`.
    public static let bpf64Abs32: UInt32 = 3
    /// `.BTF` / `.BTF.ext` offsets, not applied by a dynamic loader. The corresponding LLVM name is
    /// `R_BPF_64_NODYLD32`.
    public static let bpf64NoDyld32: UInt32 = 4
    /// A `call` to a subprogram; patches the imm of the call. The corresponding LLVM name is `R_BPF_64_32`.
    public static let bpf64_32: UInt32 = 10

    /// How many bytes from `offset` a relocation of type `type` covers and must find inside its target section,
    /// or nil if `type` is not a BPF relocation type.
    ///
    /// `R_BPF_64_64` covers a whole `lddw` (16 bytes); `R_BPF_64_32` one instruction (8); the data types their width.
    public static func patchWidth(of type: UInt32) -> Int? {
        switch type {
        case bpfNone: return 0
        case bpf64_64: return 16
        case bpf64Abs64: return 8
        case bpf64Abs32, bpf64NoDyld32: return 4
        case bpf64_32: return 8
        default: return nil
        }
    }
}
