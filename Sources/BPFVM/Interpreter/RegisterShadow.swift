/// What checked mode knows about r0-r10 at a glance, as two bit masks (bit i for register i):
/// the registers not known to hold a number, and among those the ones holding a pointer (whose
/// object `Sandbox.tags` names). A register is then a number, a pointer, or holds nothing.
///
/// The interpreter loop keeps this value in a machine register and hands it to every call into
/// the `Sandbox`, so that the common instruction, which reads numbers and writes one, is
/// admitted by one test against `unproven` and changes nothing else (see `Sandbox.admit`).
/// Bits 11-15 of `unproven` are always set: bit 15 is what a write to r10 asks for and bit 14
/// what an instruction that does more than compute a register asks for (see `CheckWord`), so
/// that the one test sends those to the full check.
struct RegisterShadow: Equatable {
    /// Registers holding nothing or a pointer, plus bits 11-15.
    var unproven: UInt16
    /// Among `unproven`, the registers holding a pointer (a bit outside `unproven` means
    /// nothing: that register holds a number).
    var pointers: UInt16

    /// r0-r10.
    static let allRegisters: UInt16 = 0x7ff

    /// No register holds a value.
    static let empty = RegisterShadow(unproven: 0xffff, pointers: 0)

    /// The registers among `registers` (bits 0-10, and bit 15 for a write to r10) that hold
    /// nothing.
    @inline(__always)
    func uninitialized(among registers: UInt16) -> UInt16 { registers & unproven & ~pointers }

    @inline(__always)
    func isInitialized(_ register: Int) -> Bool { uninitialized(among: 1 << register) == 0 }

    @inline(__always)
    func holdsPointer(_ register: Int) -> Bool { unproven & pointers & (1 << register) != 0 }

    /// The registers in `registers` now hold numbers.
    @inline(__always)
    mutating func defineNumbers(_ registers: UInt16) { unproven &= ~registers }

    /// `register` now holds a pointer.
    @inline(__always)
    mutating func definePointer(_ register: Int) {
        unproven |= 1 << register
        pointers |= 1 << register
    }

    /// The registers in `registers` no longer hold values.
    @inline(__always)
    mutating func uninitialize(_ registers: UInt16) {
        unproven |= registers
        pointers &= ~registers
    }

    /// The registers in `registers` take their state from `saved` (their tags must be restored
    /// with them).
    @inline(__always)
    mutating func restore(_ registers: UInt16, from saved: RegisterShadow) {
        unproven = unproven & ~registers | saved.unproven & registers
        pointers = pointers & ~registers | saved.pointers & registers
    }
}
