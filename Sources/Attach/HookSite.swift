import CAttach

/// Where a hook is patched, checked when the hook is registered: the aligned 8-byte word that
/// holds its 5-byte instruction, the bytes it holds while detached, and the function the
/// trampoline calls as the original.
///
/// Two shapes: a C function compiled with `patchable_function_entry(5, 0)`, which starts with
/// one 5-byte NOP (detached: the NOP; the original is the body after it), and a static-call
/// stub, whose only instruction is `jmp original` (detached: that jmp).
struct HookSite: Sendable {
    enum Shape: Sendable { case entryNOP, staticCall }

    let shape: Shape
    /// The first byte of the 5-byte instruction.
    let address: UInt64
    /// The 5 bytes it holds while nothing is attached.
    let detachedBytes: [UInt8]
    /// What the trampoline calls: the function's body (after the NOP), or the stub's target.
    let original: UInt64

    /// Checks the bytes at `address` for `shape`; refuses what one aligned store cannot replace
    /// atomically.
    init(hook: String, shape: Shape, address: UInt64) throws(AttachError) {
        let bytes = Self.read(address, count: 5)
        switch shape {
        case .entryNOP:
            if bytes.starts(with: [0xf3, 0x0f, 0x1e, 0xfa]) {
                throw .unpatchableSite(hook: hook, reason: "it starts with endbr64 (built with -fcf-protection): the NOP after it straddles an aligned 8-byte word; build hooks without CET branch protection")
            }
            if bytes == [0x90, 0x90, 0x90, 0x90, 0x90] {
                throw .unpatchableSite(hook: hook, reason: "its entry is five 1-byte NOPs (gcc's patchable_function_entry): a thread between two of them would resume inside the new jmp; build it with clang")
            }
            guard bytes.starts(with: [0x0f, 0x1f, 0x44, 0x00]) else {
                throw .unpatchableSite(hook: hook, reason: "it does not start with a 5-byte NOP (0f 1f 44 00 xx): declare it with BPFRUN_HOOK (patchable_function_entry(5, 0))")
            }
            original = address + 5
        case .staticCall:
            guard bytes[0] == 0xe9 else {
                throw .unpatchableSite(hook: hook, reason: "its static-call stub does not start with jmp rel32")
            }
            original = UInt64(Int64(bitPattern: address + 5) + Int64(Self.rel32(bytes)))
        }
        guard address % 8 <= 3 else {
            throw .unpatchableSite(hook: hook, reason: "its 5-byte instruction at 0x\(String(address, radix: 16)) crosses an aligned 8-byte word, which one atomic store cannot replace")
        }
        self.shape = shape
        self.address = address
        self.detachedBytes = bytes
    }

    /// `jmp target` from the site.
    func jump(to target: UInt64) -> [UInt8] { Self.jump(from: address, to: target) }

    static func jump(from address: UInt64, to target: UInt64) -> [UInt8] {
        let distance = Int64(bitPattern: target) - Int64(bitPattern: address + 5)
        precondition(Int64(Int32.min)...Int64(Int32.max) ~= distance, "jump target out of rel32 reach")
        let value = UInt32(bitPattern: Int32(distance))
        return [0xe9] + (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func rel32(_ bytes: [UInt8]) -> Int32 {
        Int32(bitPattern: (1...4).reduce(UInt32(0)) { $0 | UInt32(bytes[$1]) << (8 * ($1 - 1)) })
    }

    static func read(_ address: UInt64, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { bpfrun_read_code(UnsafeRawPointer(bitPattern: UInt(address)), $0.baseAddress, count) }
        return bytes
    }
}
