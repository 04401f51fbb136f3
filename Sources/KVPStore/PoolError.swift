#if canImport(Glibc)
import Glibc
#endif

/// Why a pool-file operation failed.  Every case names the file, so a log
/// line or a CLI message says exactly what went wrong where.
public enum PoolError: Error, Equatable, CustomStringConvertible {
    /// open/mkdir/read/write/stat failed with `errno`.
    case system(operation: String, path: String, errno: Int32)
    /// The file stayed locked by another program for longer than allowed.
    case lockTimeout(path: String, seconds: Double)
    /// A write was attempted through a store opened read-only.
    case readOnly(path: String)

    public var description: String {
        switch self {
        case let .system(op, path, e):
            return "\(op) \(path): \(String(cString: strerror(e)))"
        case let .lockTimeout(path, s):
            return "\(path) is locked by another program (waited \(s) s)"
        case let .readOnly(path):
            return "\(path) was opened read-only"
        }
    }
}
