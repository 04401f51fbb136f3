import CHVSupport
import Glibc
import HVSystem
import Testing

/// The epoll set the agent's loop and the health probe wait on: tokens, level triggering, and
/// that registrations belong to the open file (what the loop's re-registration rules rely on).
@Suite("EventSet")
struct EventSetTests {
    static func signal(_ fd: Int32) {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    static func consume(_ fd: Int32) {
        var value: UInt64 = 0
        _ = read(fd, &value, 8)
    }

    @Test func readyMembersComeBackWithTheirTokens() throws {
        let set = try #require(EventSet())
        let a = chv_eventfd(1), b = chv_eventfd(1)
        defer { close(a); close(b) }
        #expect(set.watch(a, token: 7))
        #expect(set.watch(b, token: 1 << 62 | 3))
        var ready = ReadyEvents()
        try set.wait(into: &ready, timeoutMilliseconds: 0)
        #expect(ready.count == 0)
        Self.signal(b)
        try set.wait(into: &ready, timeoutMilliseconds: 1000)
        #expect(ready.count == 1)
        #expect(ready.tokens[0] == 1 << 62 | 3)
        #expect(ready.events[0] & UInt32(POLLIN) != 0)
        // Level-triggered: still ready until consumed.
        try set.wait(into: &ready, timeoutMilliseconds: 0)
        #expect(ready.count == 1)
        Self.consume(b)
        try set.wait(into: &ready, timeoutMilliseconds: 0)
        #expect(ready.count == 0)
    }

    @Test func watchingAgainChangesTheTokenAndUnwatchStops() throws {
        let set = try #require(EventSet())
        let a = chv_eventfd(1)
        defer { close(a) }
        #expect(set.watch(a, token: 1))
        #expect(set.watch(a, token: 2))  // already a member: only the token changes
        Self.signal(a)
        var ready = ReadyEvents()
        try set.wait(into: &ready, timeoutMilliseconds: 1000)
        #expect(ready.count == 1 && ready.tokens[0] == 2)
        set.unwatch(a)
        try set.wait(into: &ready, timeoutMilliseconds: 0)
        #expect(ready.count == 0)
        set.unwatch(a)  // not a member: not an error
        set.unwatch(-1)
    }

    /// Closing a member removes it; a new descriptor with the same number is not watched until it
    /// is watched again (why the loop registers a changeable input again before every wait).
    @Test func aReusedNumberIsNotWatchedUntilWatchedAgain() throws {
        let set = try #require(EventSet())
        let old = chv_eventfd(1)
        #expect(set.watch(old, token: 5))
        close(old)
        let new = chv_eventfd(1)
        defer { close(new) }
        try #require(new == old, "the kernel gives the lowest free number")
        Self.signal(new)
        var ready = ReadyEvents()
        try set.wait(into: &ready, timeoutMilliseconds: 0)
        #expect(ready.count == 0)
        #expect(set.watch(new, token: 6))
        try set.wait(into: &ready, timeoutMilliseconds: 0)
        #expect(ready.count == 1 && ready.tokens[0] == 6)
    }

    /// More ready members than one wait reports: the rest come with the next wait.
    @Test func readyMembersBeyondTheCapacityWaitForTheNextWait() throws {
        let set = try #require(EventSet())
        let fds = (0..<5).map { _ in chv_eventfd(1) }
        defer { fds.forEach { close($0) } }
        for (index, fd) in fds.enumerated() {
            #expect(set.watch(fd, token: UInt64(index)))
            Self.signal(fd)
        }
        var ready = ReadyEvents(capacity: 3)
        try set.wait(into: &ready, timeoutMilliseconds: 0)
        #expect(ready.count == 3)
        var seen = Set(ready.tokens[0..<ready.count])
        for index in 0..<ready.count { Self.consume(fds[Int(ready.tokens[index])]) }
        try set.wait(into: &ready, timeoutMilliseconds: 0)
        #expect(ready.count == 2)
        seen.formUnion(ready.tokens[0..<ready.count])
        #expect(seen == Set(0..<5))
    }

    /// epoll refuses what it cannot wait on (a regular file: EPERM); the agent's loop relies on
    /// the errno to tell that apart from a real failure.
    @Test func aRegularFileIsRefusedWithEPERM() throws {
        let set = try #require(EventSet())
        var template = Array("/tmp/hvagent-eventset-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        try #require(fd >= 0)
        defer { close(fd); unlink(template) }
        #expect(!set.watch(fd, token: 1))
        #expect(errno == EPERM)
    }
}
