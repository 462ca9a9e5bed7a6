#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BPFVM

/// Reading the user's files, with errors that name the file and the problem.
enum InputFiles {
    /// The bytes of `path`, or a validation error naming it. Read straight into the array (a
    /// kernel's BTF is 5 MB; a copy through `Data` would double the memory it takes).
    static func bytes(at path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw CommandError(errno == ENOENT ? "\(path): no such file" : "cannot read \(path)")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw CommandError("cannot read \(path)") }
        if status.st_mode & S_IFMT == S_IFDIR { throw CommandError("\(path) is a folder, not a file") }
        // Files of /proc and /sys may claim any size: read to the end, growing as needed.
        var bytes: [UInt8] = []
        var capacity = max(Int(status.st_size), 0) + 1
        while true {
            var failed = false
            var atEnd = false
            bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                count = 0
                if !bytes.isEmpty {
                    _ = buffer.initialize(fromContentsOf: bytes)
                    count = bytes.count
                }
                while count < capacity {
                    let got = read(descriptor, buffer.baseAddress! + count, capacity - count)
                    if got < 0 && errno == EINTR { continue }
                    if got < 0 { failed = true }
                    if got <= 0 { atEnd = true; return }
                    count += got
                }
            }
            if failed { throw CommandError("cannot read \(path)") }
            if atEnd { return bytes }
            capacity *= 2
        }
    }

    /// The instruction slots of a program file: raw little-endian slots (any file holding a NUL
    /// byte) or assembly text in the bpf_conformance syntax.
    static func program(at path: String) throws -> Program {
        let bytes = try bytes(at: path)
        let slots: [Instruction]
        if bytes.contains(0) {
            guard let decoded = Instruction.slots(fromBytes: bytes) else {
                throw CommandError("\(path): \(bytes.count) bytes is not a whole number of 8-byte instructions")
            }
            slots = decoded
        } else {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw CommandError("\(path): neither raw BPF instructions nor UTF-8 assembly text")
            }
            do {
                slots = try Assembler.assemble(text)
            } catch {
                throw CommandError("\(path): \(error)")
            }
        }
        do {
            return try Program(instructions: slots)
        } catch {
            throw CommandError("\(path): \(error)")
        }
    }

    /// The BPF object at `path`, parsed and validated.
    static func object(at path: String) throws -> Object {
        let bytes = try bytes(at: path)
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        let name = fileName.hasSuffix(".o") ? String(fileName.dropLast(2)) : fileName
        do {
            return try Object(bytes: bytes, name: name)
        } catch {
            throw CommandError("\(path): \(error)")
        }
    }

    /// The BTF of an ELF file's `.BTF` section or of a raw BTF file (nothing else of the file is read), with the
    /// pointer size its ELF class implies (nil for raw BTF).
    static func btf(at path: String) throws -> (btf: BTF, pointerSize: Int?) {
        let file = try bytes(at: path)
        do {
            let source = try BTFSource(file: file)
            return (try source.parse(), source.pointerSize)
        } catch {
            throw CommandError("\(path): \(error)")
        }
    }

    /// Parses hex bytes such as `01 02 ff` or `0102ff`.
    static func hexBytes(_ text: String) throws -> [UInt8] {
        let digits = text.filter { !$0.isWhitespace }
        let body = digits.hasPrefix("0x") ? digits.dropFirst(2) : Substring(digits)
        guard body.count % 2 == 0 else { throw CommandError("--mem: odd number of hex digits") }
        var bytes: [UInt8] = []
        var index = body.startIndex
        while index < body.endIndex {
            let next = body.index(index, offsetBy: 2)
            guard let byte = UInt8(body[index..<next], radix: 16) else {
                throw CommandError("--mem: '\(body[index..<next])' is not a hex byte")
            }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
