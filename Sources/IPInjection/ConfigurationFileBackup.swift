#if canImport(Glibc)
import Glibc
#endif
import HVSystem

/// A configuration file as it was before a backend replaced it — its bytes and mode, or that there
/// was none — so that an undo puts back exactly that (docs/ARCHITECTURE.md, "IP injection").
///
/// Taken before anything is written: a file that cannot be read completely (unreadable, larger
/// than ``limit``, a symbolic link whose replacement would turn it into a plain file) stops the
/// backend before it changes anything, because it could not be put back.
struct ConfigurationFileBackup: Sendable, Equatable {
    /// Larger configuration files than this are not ones a backend wrote or should replace.
    static let limit = 1 << 20

    let directory: String
    let name: String
    /// nil: there was no file.
    let previous: Contents?

    struct Contents: Sendable, Equatable {
        var bytes: [UInt8]
        var mode: mode_t
    }

    var path: String { directory + "/" + name }

    init(directory: String, name: String) throws(IPConfigurationError) {
        self.directory = directory
        self.name = name
        let path = directory + "/" + name
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            let error = Errno.current
            if error.rawValue == ELOOP { throw .failed("\(path) is a symbolic link; not replacing it") }
            guard error == .noSuchFileOrDirectory else {
                throw .failed("cannot read \(path) to keep it for an undo: \(SystemCallError(call: "open", path: path, errno: error))")
            }
            previous = nil
            return
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw .failed("\(path) is not a plain file; not replacing it")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { read(fd, raw.baseAddress, raw.count) } }
            if n == 0 { break }
            guard n > 0 else {
                throw .failed("cannot read \(path) to keep it for an undo: \(SystemCallError(call: "read", path: path, errno: .current))")
            }
            bytes.append(contentsOf: chunk.prefix(n))
            guard bytes.count <= Self.limit else { throw .failed("\(path) is larger than \(Self.limit) bytes; not replacing it") }
        }
        previous = Contents(bytes: bytes, mode: st.st_mode & 0o7777)
    }

    /// Writes `text` in the file's place (``ConfigurationFileWriter``).
    func replace(with text: String, mode: mode_t) throws(IPConfigurationError) {
        do {
            try ConfigurationFileWriter.write(text, directory: directory, name: name, mode: mode)
        } catch {
            throw .failed("writing \(path): \(error)")
        }
    }

    /// Puts the previous bytes and mode back, or removes the file if there was none.
    func restore() throws(IPConfigurationError) {
        do {
            if let previous {
                try ConfigurationFileWriter.write(previous.bytes, directory: directory, name: name, mode: previous.mode)
            } else if unlink(path) != 0 && Errno.current != .noSuchFileOrDirectory {
                throw SystemCallError(call: "unlink", path: path, errno: .current)
            }
        } catch {
            throw .failed("restoring \(path): \(error)")
        }
    }
}
