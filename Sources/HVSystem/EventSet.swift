import CHVSupport
#if canImport(Glibc)
import Glibc
#endif

/// An epoll set: descriptors watched as one for reading, level-triggered unless asked otherwise.
///
/// Two uses. Several descriptors that must look like one input: a health probe has a changing
/// number of them (a running child's pidfd, its deadline timer, the children of probes a reload
/// replaced), and the set's own descriptor stays the same for its whole life, readable while any
/// member is. And the agent's event loop itself: a registered set is woken without the per-call
/// cost of `poll()` (registering on, and unregistering from, every descriptor's wait queue at every
/// wake-up), which was most of what the loop's wait cost over a blocking read
/// (docs/PERFORMANCE.md, "Where the round trip goes").
///
/// Registrations belong to the open file, not the number: closing a descriptor removes it, and a
/// new descriptor with the same number is not watched until it is watched again. Owners that
/// replace a descriptor therefore unwatch the old one first and watch the new one.
public final class EventSet: @unchecked Sendable {
    /// Poll this for reading, or ``wait(into:timeoutMilliseconds:)`` on the set.
    public let descriptor: Int32

    /// nil when no descriptor is left (errno says why).
    public init?() {
        let fd = chv_epoll_create()
        guard fd >= 0 else { return nil }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// Watches `fd` for reading; its readiness is reported with `token`. Watching a member again
    /// only changes its token (and trigger). False (errno) if it cannot be added.
    ///
    /// - Parameter edgeTriggered: reported once per wake-up of `fd` (every signal on an eventfd
    ///   or a uio node is one) instead of for as long as it is readable, so the owner need not
    ///   read it to stop the reports: a VMBus doorbell then costs no `read()` per signal. Only
    ///   for descriptors whose every new event wakes their waiters.
    @discardableResult
    public func watch(_ fd: Int32, token: UInt64 = 0, edgeTriggered: Bool = false) -> Bool {
        chv_epoll_watch(descriptor, edgeTriggered ? 2 : 0, fd, token) == 0
    }

    /// Stops watching `fd`; one that is not watched, or no longer open, is not an error.
    public func unwatch(_ fd: Int32) {
        _ = chv_epoll_watch(descriptor, 1, fd, 0)
    }

    /// Sleeps until a member is ready or `timeoutMilliseconds` pass (-1: no timeout), and puts the
    /// ready members' tokens and event masks (poll(2)'s bits) into `ready`. A signal ends the wait
    /// with nothing ready.
    public func wait(into ready: inout ReadyEvents, timeoutMilliseconds: Int32) throws(SystemCallError) {
        let capacity = Int32(ready.tokens.count)
        let count = ready.tokens.withUnsafeMutableBufferPointer { tokens in
            ready.events.withUnsafeMutableBufferPointer { events in
                chv_epoll_wait(descriptor, tokens.baseAddress, events.baseAddress, capacity, timeoutMilliseconds)
            }
        }
        if count < 0 {
            ready.count = 0
            if errno == EINTR { return }
            throw SystemCallError(call: "epoll_wait", errno: .current)
        }
        ready.count = Int(count)
    }
}

/// What one ``EventSet/wait(into:timeoutMilliseconds:)`` found: kept by the caller and reused, so
/// a wake-up allocates nothing.
public struct ReadyEvents {
    /// The ready members' tokens, `count` of them.
    public fileprivate(set) var tokens: [UInt64]
    /// Their event masks (POLLIN, POLLERR, POLLHUP bits), in the same order.
    public fileprivate(set) var events: [UInt32]
    public fileprivate(set) var count = 0

    /// - Parameter capacity: the most members one wait reports (at most 64); the others stay
    ///   ready for the next wait (level-triggered), so none is lost.
    public init(capacity: Int = 16) {
        tokens = Array(repeating: 0, count: min(max(capacity, 1), 64))
        events = Array(repeating: 0, count: tokens.count)
    }
}
