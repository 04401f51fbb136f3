/// A system call that failed: which call, on which file (when there is one), and its errno.
///
/// The one error type for errno across the agent's modules, so a caller tests
/// `error.errno == .resourceBusy` the same way whatever module failed, and a module's own error
/// (a channel's, a pool file's) carries one of these instead of its own copy of the fields.
public struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call (or the step, e.g. "lock") that failed, as the message shows it.
    public var call: String
    /// The file or socket it was about, if any.
    public var path: String?
    public var errno: Errno

    public init(call: String, path: String? = nil, errno: Errno) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    /// `open /var/lib/hyperv/.kvp_pool_0: Permission denied`, or `timerfd_create: Too many open
    /// files` without a path.
    public var description: String {
        if let path { return "\(call) \(path): \(errno)" }
        return "\(call): \(errno)"
    }
}
