import CProcessSupport
#if canImport(Glibc)
import Glibc
#endif

/// Several descriptors the event loop watches as one (an epoll set): readable while any member is.
///
/// Why: the loop takes a fixed list of inputs, each with one descriptor, while a health probe has a
/// changing number (a running child's pidfd, its deadline timer, the children of probes a reload
/// replaced that are not reaped yet). The set's descriptor stays the same for its whole life, and
/// level-triggered membership means a member that stays readable keeps the set readable until it
/// is handled.
public final class EventSet: @unchecked Sendable {
    /// Poll this for reading.
    public let descriptor: Int32

    /// nil when no descriptor is left (errno says why).
    public init?() {
        let fd = cprocess_epoll_create()
        guard fd >= 0 else { return nil }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// Watches `fd` for reading; false (errno) if it cannot be added.
    @discardableResult
    public func watch(_ fd: Int32) -> Bool {
        cprocess_epoll_watch(descriptor, fd, 1) == 0
    }

    /// Stops watching `fd` (closing it does too).
    public func unwatch(_ fd: Int32) {
        _ = cprocess_epoll_watch(descriptor, fd, 0)
    }
}
