import HVSystem

/// Failures of a channel as a whole: its ring, its doorbell, or the system calls behind them.
public enum ChannelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The ring reported an error; ``RingError/corrupt(_:)`` puts the channel in the failed state.
    case ring(RingError)
    /// The device was rescinded by the host (uio `read()` returned EIO) or the peer went away.
    case rescinded
    /// A system call failed.
    case system(SystemCallError)
    /// A size or value read from the system (sysfs, the simulator's offer) is unusable.
    case invalidConfiguration(String)

    /// A failed system call, with the errno the caller read right after it.
    public static func system(call: String, path: String? = nil, errno: Errno) -> ChannelError {
        .system(SystemCallError(call: call, path: path, errno: errno))
    }

    /// For callers that still hold errno as a plain integer.
    public static func system(call: String, errno: Int32) -> ChannelError {
        .system(SystemCallError(call: call, errno: Errno(rawValue: errno)))
    }

    /// The peer broke the ring (or broke it earlier): the channel is unusable until it is opened
    /// again. Everything else here is either "wait and retry" (``RingError/ringFull``) or not the
    /// ring's fault.
    public var isCorruption: Bool {
        if case .ring(let error) = self { return error.isCorruption }
        return false
    }

    public var description: String {
        switch self {
        case .ring(let error): "ring error: \(error)"
        case .rescinded: "channel rescinded"
        case .system(let failure):
            "\(failure.call)\(failure.path.map { "(\($0))" } ?? "") failed: \(failure.errno) (errno \(failure.errno.rawValue))"
        case .invalidConfiguration(let what): "invalid channel configuration: \(what)"
        }
    }
}
