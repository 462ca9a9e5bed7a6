import Foundation

/// A directory of its own under the system's temporary directory, for the files of one test or
/// one tool run. `with(_:_:)` removes it, with everything in it, when its body returns or throws,
/// so a test run leaves nothing behind.
public struct TemporaryDirectory {
    public let url: URL

    public var path: String { url.path }

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Runs `body` with a fresh directory named `prefix-<UUID>`, then removes the directory.
    public static func with<R>(_ prefix: String, _ body: (TemporaryDirectory) throws -> R) throws -> R {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(TemporaryDirectory(url: url))
    }
}

/// Objects compiled from C once and shared by the tests of a whole suite. They live under the
/// package's own `.build/test-fixtures/<folder>` (never in /tmp), named after their source and a
/// hash of what went into them (the source text, the compiler binary, the arguments), so a later
/// run reuses them and a changed source is compiled again; `rm -rf .build/test-fixtures` resets
/// the cache. Each compilation writes a file of its own and renames it into place, so tests
/// running in parallel never read a half-written object.
public enum CompiledFixtures {
    public static let packageDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public struct CompileError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The object compiled from `source` by `clang` with `arguments` (which must not name the
    /// input or the output), in `.build/test-fixtures/<folder>`; the files of `dependencies` (the
    /// headers it includes) count as part of the source.
    public static func object(compiling source: URL, clang: String, arguments: [String], folder: String,
                              dependencies: [URL] = []) throws -> URL {
        let directory = packageDirectory.appendingPathComponent(".build/test-fixtures/\(folder)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stem = source.deletingPathExtension().lastPathComponent
        let compiler = URL(fileURLWithPath: clang).resolvingSymlinksInPath()
        let attributes = try FileManager.default.attributesOfItem(atPath: compiler.path)
        let identity = "\(compiler.path) \(attributes[.size] ?? 0) \(attributes[.modificationDate] ?? 0)"
        var text = Array(try Data(contentsOf: source))
        for dependency in dependencies { text += Array(try Data(contentsOf: dependency)) }
        let key = fnv1a(text + Array("\0\(identity)\0\(arguments)".utf8))
        let name = "\(stem)-\(String(key, radix: 16)).o"
        let object = directory.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: object.path) { return object }

        let partial = directory.appendingPathComponent("\(name).partial-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: partial) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: clang)
        process.arguments = arguments + ["-c", source.path, "-o", partial.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let errorOutput = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CompileError(description: "clang failed on \(source.lastPathComponent): \(errorOutput)")
        }
        guard rename(partial.path, object.path) == 0 else {
            throw CompileError(description: "cannot rename \(partial.path) to \(object.path): errno \(errno)")
        }
        // Objects compiled from an earlier version of the source are of no more use.
        for stale in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where stale != name {
            guard stale.hasPrefix("\(stem)-") && stale.hasSuffix(".o") else { continue }
            let hash = stale.dropFirst(stem.count + 1).dropLast(2)
            guard !hash.isEmpty, hash.allSatisfy(\.isHexDigit) else { continue }
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(stale))
        }
        return object
    }

    /// 64-bit FNV-1a: a stable hash (Swift's `Hasher` is seeded per process).
    public static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
