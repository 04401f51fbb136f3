import HVSystem

/// Why a pool-file operation failed.  Every case names the file, so a log
/// line or a CLI message says exactly what went wrong where.
public enum PoolError: Error, Equatable, CustomStringConvertible {
    /// open/mkdir/read/write/stat/lock failed: the call is the operation, the path the file.
    case system(SystemCallError)
    /// The file stayed locked by another program for longer than allowed.
    case lockTimeout(path: String, seconds: Double)
    /// A write was attempted through a store opened read-only.
    case readOnly(path: String)

    /// A failed `operation` on `path`, with the errno read right after it.
    static func system(operation: String, path: String, errno: Errno) -> PoolError {
        .system(SystemCallError(call: operation, path: path, errno: errno))
    }

    public var description: String {
        switch self {
        case let .system(failure):
            return failure.description
        case let .lockTimeout(path, s):
            return "\(path) is locked by another program (waited \(s) s)"
        case let .readOnly(path):
            return "\(path) was opened read-only"
        }
    }
}
