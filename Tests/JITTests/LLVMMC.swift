import Foundation

/// llvm-mc, the oracle for x86-64 encodings: it assembles Intel-syntax text and shows each
/// instruction's bytes, or assembles a whole listing into an object whose `.text` bytes
/// llvm-objcopy extracts (for code with labels, which `-show-encoding` leaves unresolved).
enum LLVMMC {
    static let path: String? = executable("llvm-mc")
    static let objcopy: String? = executable("llvm-objcopy")
    static let missing = "llvm-mc (and llvm-objcopy) not found in /opt/swift/usr/bin or on PATH"

    private static func executable(_ name: String) -> String? {
        let directories = ["/opt/swift/usr/bin"]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The encoding of each line of `lines` (one instruction per line), in order.
    static func encodings(_ lines: [String]) throws -> [[UInt8]] {
        let output = try run(path!, ["-triple=x86_64", "-x86-asm-syntax=intel", "-show-encoding"],
                             input: lines.joined(separator: "\n") + "\n")
        var result: [[UInt8]] = []
        for line in output.split(separator: "\n") {
            guard let start = line.range(of: "encoding: [")?.upperBound, let end = line[start...].firstIndex(of: "]")
            else { continue }
            result.append(line[start..<end].split(separator: ",").map { UInt8($0.dropFirst(2), radix: 16)! })
        }
        guard result.count == lines.count else {
            throw Failure(description: "llvm-mc gave \(result.count) encodings for \(lines.count) lines:\n\(output)")
        }
        return result
    }

    /// The `.text` bytes of `listing` assembled into an object (labels resolved, branches relaxed).
    static func text(_ listing: String) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llvm-mc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let object = directory.appendingPathComponent("code.o").path
        let binary = directory.appendingPathComponent("code.bin").path
        _ = try run(path!, ["-triple=x86_64", "-x86-asm-syntax=intel", "-filetype=obj", "-o", object], input: listing)
        _ = try run(objcopy!, ["-O", "binary", "--only-section=.text", object, binary], input: "")
        return Array(try Data(contentsOf: URL(fileURLWithPath: binary)))
    }

    private static func run(_ tool: String, _ arguments: [String], input: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, errors.isEmpty else {
            throw Failure(description: "\(tool) failed: \(errors)")
        }
        return output
    }
}
