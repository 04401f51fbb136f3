#if canImport(Glibc)
import Glibc
#endif

/// A failed system call in the daemon plumbing, with its errno.
public struct SystemCallError: Error, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(String(cString: strerror(errno)))" }
}
