import Foundation
import Heartbeat
import ProcessSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct BoundedProcessTests {
    @Test func exitStatusAndMissingProgram() {
        let soon = Date().addingTimeInterval(5)
        #expect(BoundedProcess.run(path: "/bin/sh", arguments: ["-c", "exit 7"], deadline: soon) == .exited(7))
        #expect(BoundedProcess.run(path: "/nonexistent/tool", deadline: soon) == .failedToStart(ENOENT))
    }

    /// The daemon blocks SIGTERM for its signalfd; a hung helper must still die at the deadline,
    /// together with its own children.
    @Test func hungHelperIsKilledEvenWithSIGTERMBlockedHere() {
        var block = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGTERM)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &block, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let marker = NSTemporaryDirectory() + "hvagent-bounded-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let start = Date()
        let outcome = BoundedProcess.run(
            path: "/bin/sh", arguments: ["-c", "(sleep 2; touch \(marker)) & sleep 30"], deadline: Date().addingTimeInterval(0.3))
        #expect(outcome == .timedOut)
        #expect(Date().timeIntervalSince(start) < 3)
        usleep(2_500_000)
        #expect(!FileManager.default.fileExists(atPath: marker), "the helper's child survived")
    }

    /// stderr comes back (stdout does not), cut at the limit; a helper that writes without pause
    /// neither blocks on the pipe nor keeps the caller past its deadline.
    @Test func capturesTheHelpersErrorOutput() {
        let soon = Date().addingTimeInterval(5)
        let (outcome, errors) = BoundedProcess.runCapturingErrors(
            path: "/bin/sh", arguments: ["-c", "echo out; echo 'no such thing' >&2; exit 3"], deadline: soon)
        #expect(outcome == .exited(3))
        #expect(errors == "no such thing\n")
        let big = BoundedProcess.runCapturingErrors(path: "/bin/sh", arguments: ["-c", "head -c 200000 /dev/zero | tr '\\0' x >&2"],
                                                    deadline: soon, limit: 100)
        #expect(big.outcome == .exited(0), "a full pipe must not block the helper")
        #expect(big.errors == String(repeating: "x", count: 100))
        let start = Date()
        let chatty = BoundedProcess.runCapturingErrors(path: "/bin/sh", arguments: ["-c", "yes >&2"],
                                                       deadline: Date().addingTimeInterval(0.3), limit: 10)
        #expect(chatty.outcome == .timedOut)
        #expect(chatty.errors == "y\ny\ny\ny\ny\n")
        #expect(Date().timeIntervalSince(start) < 3)
        #expect(BoundedProcess.runCapturingErrors(path: "/nonexistent/tool", deadline: soon).outcome == .failedToStart(ENOENT))
    }

    @Test func slowHealthProbeIsCritical() {
        let probe = CommandHealthProbe(executable: "/bin/sh", arguments: ["-c", "sleep 30"], timeoutSeconds: 0.2)
        let start = Date()
        #expect(ProbeLoop.answer(probe) == .critical)
        #expect(Date().timeIntervalSince(start) < 3)
    }
}
