import Glibc
import HVSystem
import Testing

@Suite("One errno type and one EINTR retry")
struct SystemCallErrorTests {
    /// A call interrupted by a signal is called again, as often as it takes; its result comes back.
    @Test func interruptedCallsAreRepeated() {
        var calls = 0
        let result = retryingOnInterrupt { () -> Int in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 42
        }
        #expect(result == 42)
        #expect(calls == 3)
    }

    /// Any other failure is returned at once, with errno still telling why.
    @Test func otherFailuresAreReturnedOnce() {
        var calls = 0
        let result = retryingOnInterrupt { () -> Int32 in
            calls += 1
            errno = EBUSY
            return -1
        }
        #expect(result == -1)
        #expect(calls == 1)
        #expect(Errno.current == .resourceBusy)
    }

    /// The throwing form names the call and the file.
    @Test func throwingFormReportsTheCall() throws {
        var interrupted = false
        let fd = try retryingOnInterrupt("open", path: "/dev/null") { () -> Int32 in
            if !interrupted {
                interrupted = true
                errno = EINTR
                return -1
            }
            return open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        #expect(fd >= 0)
        close(fd)
        #expect(throws: SystemCallError(call: "open", path: "/nonexistent/x", errno: .noSuchFileOrDirectory)) {
            _ = try retryingOnInterrupt("open", path: "/nonexistent/x") { open("/nonexistent/x", O_RDONLY | O_CLOEXEC) }
        }
    }

    /// Messages use the C library's words, with the path after the call when there is one.
    @Test func descriptions() {
        #expect(Errno.resourceBusy.description == "Device or resource busy")
        #expect(Errno(rawValue: EACCES) == .permissionDenied)
        #expect(SystemCallError(call: "open", path: "/var/lib/hyperv/.kvp_pool_0", errno: .permissionDenied).description
            == "open /var/lib/hyperv/.kvp_pool_0: Permission denied")
        #expect(SystemCallError(call: "timerfd_create", errno: .invalidArgument).description == "timerfd_create: Invalid argument")
    }
}
