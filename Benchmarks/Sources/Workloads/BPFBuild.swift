#if canImport(Glibc)
import Glibc
#endif

/// Builds the BPF objects of the benchmark programs from the C files of the NativePrograms
/// target (the same sources the native build compiles), with the clang on PATH.
public enum BPFBuild {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The folder of the C sources.
    static let sources: String = {
        var path = #filePath
        for _ in 0..<2 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/NativePrograms"
    }()

    /// The BPF object built from `name`.c.
    static func object(for name: String) throws -> [UInt8] {
        try object(at: "\(sources)/\(name).c")
    }

    /// The BPF object built from the C file at `path` (which may include NativePrograms' headers).
    public static func object(at path: String) throws -> [UInt8] {
        let name = String(path[path.index(after: path.lastIndex(of: "/")!)...].dropLast(2))
        var template = Array("/tmp/bpf-bench-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw Failure(description: "cannot make a temporary folder")
        }
        let directory = String(cString: made)
        let output = directory + "/\(name).o"
        defer {
            unlink(output)
            rmdir(directory)
        }
        let command = "clang -O2 -g -target bpf -mcpu=v3 -Wall -Werror -I/usr/include/x86_64-linux-gnu "
            + "-I'\(sources)/include' -c '\(path)' -o '\(output)' 2>&1"
        guard let pipe = popen(command, "r") else { throw Failure(description: "cannot run clang") }
        var messages: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, pipe) }
            if count <= 0 { break }
            messages += buffer[0..<count]
        }
        guard pclose(pipe) == 0, let file = fopen(output, "rb") else {
            throw Failure(description: "clang -target bpf failed on \(name).c: \(String(decoding: messages, as: UTF8.self))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }
}
