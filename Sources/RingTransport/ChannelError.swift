/// Failures of a channel as a whole: its ring, its doorbell, or the system calls behind them.
public enum ChannelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The ring reported an error (corruption puts the channel in the failed state).
    case ring(RingError)
    /// The device was rescinded by the host (uio `read()` returned EIO) or the peer went away.
    case rescinded
    /// A system call failed.
    case system(call: String, errno: Int32)
    /// A size or value read from the system (sysfs, the simulator's offer) is unusable.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .ring(let error): "ring error: \(error)"
        case .rescinded: "channel rescinded"
        case .system(let call, let errno): "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case .invalidConfiguration(let what): "invalid channel configuration: \(what)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
