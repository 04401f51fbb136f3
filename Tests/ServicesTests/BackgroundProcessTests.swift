import Foundation
@testable import ProcessSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Helpers whose end is an event-loop event: nothing here waits for a child except through the
/// process's descriptor, as the daemon's loop does.
@Suite(.serialized) struct BackgroundProcessTests {
    @Test func outcomeArrivesWhenTheChildEndsAndNothingIsArmedAfterwards() throws {
        let process = try #require(BackgroundProcess())
        #expect(process.start(path: "/bin/sh", arguments: ["-c", "sleep 0.2; exit 7"], timeoutSeconds: 5) == nil)
        #expect(process.isRunning)
        #expect(!ProbeLoop.readable(process.descriptor, waitMilliseconds: 0), "readable before the child ended")
        #expect(ProbeLoop.outcome(process) == .exited(7))
        #expect(!process.isRunning)
        // Idle: no pidfd, no timer armed, so the loop is not woken.
        #expect(!ProbeLoop.readable(process.descriptor, waitMilliseconds: 200))
    }

    @Test func signalsAndMissingProgramsAreReported() throws {
        let process = try #require(BackgroundProcess())
        #expect(process.start(path: "/nonexistent/tool", timeoutSeconds: 5) == .failedToStart(ENOENT))
        #expect(!process.isRunning)
        #expect(process.start(path: "/bin/sh", arguments: ["-c", "kill -USR1 $$"], timeoutSeconds: 5) == nil)
        #expect(process.start(path: "/bin/true", timeoutSeconds: 5) == .failedToStart(EBUSY), "a second child while one runs")
        #expect(ProbeLoop.outcome(process) == .signalled(SIGUSR1))
    }

    /// At the deadline the whole group goes, the helper's own children too, although this thread
    /// blocks SIGTERM (as the daemon does for its signalfd).
    @Test func deadlineKillsTheWholeGroup() throws {
        var block = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGTERM)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &block, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let marker = NSTemporaryDirectory() + ProbeLoop.marker("background")
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let process = try #require(BackgroundProcess())
        let start = Date()
        #expect(process.start(path: "/bin/sh", arguments: ["-c", "(sleep 2; touch \(marker)) & sleep 30"], timeoutSeconds: 0.3) == nil)
        #expect(ProbeLoop.outcome(process) == .timedOut)
        #expect(Date().timeIntervalSince(start) < 3)
        usleep(2_500_000)
        #expect(!FileManager.default.fileExists(atPath: marker), "the helper's child survived")
    }

    /// SIGTERM ignored: SIGKILL follows after the grace second, which the loop does not sleep
    /// through (the timer is re-armed).
    @Test func sigtermIgnoredMeansSIGKILLAfterTheGrace() throws {
        let process = try #require(BackgroundProcess())
        let start = Date()
        #expect(process.start(path: "/bin/sh", arguments: ["-c", "trap '' TERM; sleep 30; :"], timeoutSeconds: 0.2) == nil)
        var handled = 0
        var outcome: BoundedProcess.Outcome?
        _ = ProbeLoop.drive(process.descriptor, handle: {
            handled += 1
            outcome = process.handleReadable()
        }) { outcome != nil }
        let elapsed = Date().timeIntervalSince(start)
        #expect(outcome == .timedOut)
        #expect(elapsed > 1.1 && elapsed < 3, "\(elapsed) s")
        // Deadline, end of grace, the end itself: a handful of wake-ups, not a polling loop.
        #expect(handled <= 4, "\(handled) wake-ups")
    }

    /// Kernels before 5.3 have no pidfd: the timer ticks while a child runs.
    @Test func withoutPidfdTheTimerTicks() throws {
        let process = try #require(BackgroundProcess(usePidfd: false))
        #expect(process.start(path: "/bin/sh", arguments: ["-c", "sleep 0.1; exit 3"], timeoutSeconds: 5) == nil)
        #expect(ProbeLoop.outcome(process) == .exited(3))
        #expect(!ProbeLoop.readable(process.descriptor, waitMilliseconds: 100), "ticking while idle")
        #expect(process.start(path: "/bin/sh", arguments: ["-c", "sleep 30"], timeoutSeconds: 0.2) == nil)
        #expect(ProbeLoop.outcome(process) == .timedOut)
    }

    @Test func cancelKillsWithoutWaitingAndLeavesNoZombie() throws {
        let marker = ProbeLoop.marker("cancel")
        let process = try #require(BackgroundProcess())
        #expect(process.start(path: "/bin/sh", arguments: ["-c", "sleep 30; : \(marker)"], timeoutSeconds: 60) == nil)
        #expect(ProbeLoop.eventually { ProbeLoop.processes(containing: marker).count == 1 })
        let pid = try #require(ProbeLoop.processes(containing: marker).first)
        let start = Date()
        process.cancel()
        #expect(Date().timeIntervalSince(start) < 0.1)
        var outcomes: [BoundedProcess.Outcome] = []
        #expect(ProbeLoop.drive(process.descriptor, handle: { process.handleReadable().map { outcomes.append($0) } }) { !process.isRunning })
        #expect(outcomes.isEmpty, "a cancelled child reported \(outcomes)")
        #expect(!ProbeLoop.exists(pid), "the cancelled child is still there (zombie?)")
    }

    @Test func droppingTheProcessKillsAndReapsItsChild() throws {
        let marker = ProbeLoop.marker("drop")
        var process = BackgroundProcess()
        #expect(process?.start(path: "/bin/sh", arguments: ["-c", "sleep 30; : \(marker)"], timeoutSeconds: 60) == nil)
        #expect(ProbeLoop.eventually { ProbeLoop.processes(containing: marker).count == 1 })
        let pid = try #require(ProbeLoop.processes(containing: marker).first)
        process = nil
        #expect(!ProbeLoop.exists(pid))
    }

    @Test func hundredRunsLeakNoDescriptorsAndNoChildren() throws {
        let marker = ProbeLoop.marker("hundred")
        let process = try #require(BackgroundProcess())
        let before = ProbeLoop.openDescriptors
        for run in 0..<100 {
            // Every fourth run times out, so both ends of a run are exercised.
            let hangs = run % 4 == 3
            let script = hangs ? "sleep 30; : \(marker)" : "exit \(run % 3); : \(marker)"
            #expect(process.start(path: "/bin/sh", arguments: ["-c", script], timeoutSeconds: hangs ? 0.05 : 10) == nil)
            let outcome = ProbeLoop.outcome(process)
            #expect(outcome == (hangs ? .timedOut : .exited(Int32(run % 3))), "run \(run)")
        }
        // Other suites run in parallel and hold descriptors for a moment: a margin, far below 100.
        #expect(ProbeLoop.openDescriptors <= before + 30, "\(before) descriptors before, \(ProbeLoop.openDescriptors) after")
        #expect(ProbeLoop.processes(containing: marker).isEmpty)
    }
}
