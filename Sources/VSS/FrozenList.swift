import HVSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The mount points hvagent froze, kept in a file on tmpfs (`/run/hvagent/vss-frozen`) so that a
/// crashed or killed agent is thawed by `hvagent vss-thaw` (the unit's `ExecStopPost=`) or by its
/// next start (COMPATIBILITY.md V3). hv_vss_daemon keeps this only in memory.
///
/// Format: one mount point per line, in freeze order, with mountinfo-style escapes for space,
/// tab, newline and backslash. Written with write + fsync-free rename (tmpfs): the file is either
/// the old or the new list, never half of one.
public struct FrozenList: Sendable {
    public var path: String

    public init(path: String) {
        self.path = path
    }

    /// Records `mountPoints` (freeze order); an empty list removes the file.
    public func store(_ mountPoints: [String]) throws(FrozenListError) {
        guard !mountPoints.isEmpty else { return try remove() }
        let text = mountPoints.map(Self.escape).joined(separator: "\n") + "\n"
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .write(path: temporary, errno: errno) }
        var failure: Int32 = 0
        text.utf8CString.withUnsafeBytes { raw in
            var rest = UnsafeRawBufferPointer(rebasing: raw.dropLast())  // no NUL
            while !rest.isEmpty {
                let n = retryingOnInterrupt { write(fd, rest.baseAddress, rest.count) }
                if n <= 0 { failure = n < 0 ? errno : EIO; return }
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            }
        }
        close(fd)
        guard failure == 0 else { unlink(temporary); throw .write(path: temporary, errno: failure) }
        guard rename(temporary, path) == 0 else {
            let error = errno
            unlink(temporary)
            throw .write(path: path, errno: error)
        }
    }

    /// The recorded mount points in freeze order; empty when there is no file.
    public func load() -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map { MountInfoEntry.unescape($0) }.filter { !$0.isEmpty }
    }

    public var exists: Bool { access(path, F_OK) == 0 }

    public func remove() throws(FrozenListError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw .write(path: path, errno: errno) }
    }

    static func escape(_ mountPoint: String) -> String {
        var out = ""
        for scalar in mountPoint.unicodeScalars {
            switch scalar {
            case " ": out += "\\040"
            case "\t": out += "\\011"
            case "\n": out += "\\012"
            case "\\": out += "\\134"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

public enum FrozenListError: Error, Hashable, CustomStringConvertible {
    case write(path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .write(path, error): "cannot record the frozen list in \(path): \(Errno(rawValue: error))"
        }
    }
}
