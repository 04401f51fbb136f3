#if canImport(Glibc)
import Glibc
#endif

/// An errno value: what a failed system call left in `errno`, as a type of its own so it cannot be
/// confused with a count, a descriptor or a libnl code, and so every message spells it the same
/// way (the C library's text for it).
///
/// The named values are the ones the agent tests for; their names are apple/swift-system's, so
/// code reads the same whichever of the two a module sees. Any other value is `Errno(rawValue:)`
/// with the C constant.
public struct Errno: RawRepresentable, Error, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The calling thread's `errno` now. Read it right after the failed call: `close` or a log line
    /// in between may overwrite it.
    @inlinable
    public static var current: Errno { Errno(rawValue: errno) }

    /// strerror(3)'s text, e.g. "Device or resource busy", the words every existing message uses.
    /// For the values the kernel returns glibc's text is a constant string; it is copied at once
    /// either way.
    public var description: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return String(cString: text)
    }

    public static var notPermitted: Errno { Errno(rawValue: EPERM) }
    public static var noSuchFileOrDirectory: Errno { Errno(rawValue: ENOENT) }
    public static var interrupted: Errno { Errno(rawValue: EINTR) }
    public static var ioError: Errno { Errno(rawValue: EIO) }
    public static var permissionDenied: Errno { Errno(rawValue: EACCES) }
    public static var resourceBusy: Errno { Errno(rawValue: EBUSY) }
    public static var fileExists: Errno { Errno(rawValue: EEXIST) }
    public static var operationNotSupportedByDevice: Errno { Errno(rawValue: ENODEV) }
    public static var invalidArgument: Errno { Errno(rawValue: EINVAL) }
    public static var fileTooLarge: Errno { Errno(rawValue: EFBIG) }
    public static var readOnlyFileSystem: Errno { Errno(rawValue: EROFS) }
    public static var brokenPipe: Errno { Errno(rawValue: EPIPE) }
    /// EAGAIN (EWOULDBLOCK is the same value on Linux).
    public static var resourceTemporarilyUnavailable: Errno { Errno(rawValue: EAGAIN) }
    public static var noBufferSpace: Errno { Errno(rawValue: ENOBUFS) }
    public static var connectionReset: Errno { Errno(rawValue: ECONNRESET) }
    public static var fileNameTooLong: Errno { Errno(rawValue: ENAMETOOLONG) }
    public static var staleNFSFileHandle: Errno { Errno(rawValue: ESTALE) }
}
