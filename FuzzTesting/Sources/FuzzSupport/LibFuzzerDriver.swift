/// libFuzzer's entry point for programs that bring their own `main` (compiler-rt `FuzzerInterface.h`).
@_extern(c, "LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs libFuzzer with the process arguments on `callback`, returning libFuzzer's exit status.
///
/// SwiftPM links every executable target with `--defsym main=<Target>_main`, even when the module is compiled with
/// `-parse-as-library` and emits no `main`. Each fuzz target therefore defines `<Target>_main` with `@_cdecl` and
/// forwards here, which hands control to libFuzzer exactly as libFuzzer's own `main` would.
public func runLibFuzzer(
    argc: CInt, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
