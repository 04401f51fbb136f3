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

    @Test func slowHealthProbeIsCritical() {
        let probe = CommandHealthProbe(executable: "/bin/sh", arguments: ["-c", "sleep 30"], timeoutSeconds: 0.2)
        let start = Date()
        #expect(ProbeLoop.answer(probe) == .critical)
        #expect(Date().timeIntervalSince(start) < 3)
    }
}
