import Foundation
import Heartbeat
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The heartbeat's health probe never makes the heartbeat (and so the event loop) wait: it answers
/// from its last run and runs the command in the background.
@Suite(.serialized) struct CommandHealthProbeTests {
    static func shell(_ script: String, cacheSeconds: Double = 10, timeoutSeconds: Double = 5) -> CommandHealthProbe {
        CommandHealthProbe(executable: "/bin/sh", arguments: ["-c", script], cacheSeconds: cacheSeconds, timeoutSeconds: timeoutSeconds)
    }

    /// Collects a probe's background work (the test's part of the loop) until none is left.
    static func settle(_ probe: some HealthProbe) -> Bool {
        ProbeLoop.drive(probe.descriptor, handle: probe.handleReadable) { !probe.isRunning }
    }

    @Test func noAnswerUntilTheFirstRunEndsThenItsResult() {
        let probe = Self.shell("sleep 0.3")
        #expect(probe.applicationState() == nil, "an answer before the command ended")
        #expect(probe.isRunning, "the first run starts at creation")
        #expect(ProbeLoop.answer(probe) == .healthy)
    }

    /// A 5 s command: every call returns at once, with no answer yet.
    @Test func aSlowCommandNeverBlocksTheCaller() {
        let probe = Self.shell("sleep 5")
        let start = Date()
        for _ in 0..<20 { #expect(probe.applicationState() == nil) }
        #expect(Date().timeIntervalSince(start) < 0.5)
        probe.cancel()
        #expect(Self.settle(probe))
    }

    @Test func timeoutKillsTheGroupAndReportsCritical() throws {
        let marker = ProbeLoop.marker("probe-timeout")
        let probe = Self.shell("sh -c 'sleep 30; : \(marker)-inner'; : \(marker)", timeoutSeconds: 0.3)
        #expect(ProbeLoop.eventually { ProbeLoop.processes(containing: marker).count == 2 })
        let pids = ProbeLoop.processes(containing: marker)
        let child = try #require(pids.first { ProbeLoop.parent(of: $0) == getpid() })
        let start = Date()
        #expect(ProbeLoop.answer(probe) == .critical)
        #expect(Date().timeIntervalSince(start) < 3)
        #expect(!probe.isRunning)
        #expect(!ProbeLoop.exists(child), "the probe's command was not reaped")
        // Its own child (reaped by init, not by us) is dead too.
        #expect(ProbeLoop.eventually { pids.allSatisfy { !ProbeLoop.alive($0) } }, "a process of the group survived")
    }

    /// A stale answer is served while the next run goes on; the new result replaces it when the
    /// loop handles the command's end.
    @Test func staleAnswerServedWhileRefreshing() throws {
        let flag = NSTemporaryDirectory() + ProbeLoop.marker("flag")
        defer { try? FileManager.default.removeItem(atPath: flag) }
        let probe = Self.shell("test -e \(flag)", cacheSeconds: 0.3)
        #expect(ProbeLoop.answer(probe) == .critical)
        _ = FileManager.default.createFile(atPath: flag, contents: nil)
        #expect(probe.applicationState() == .critical, "cached for 0.3 s")
        #expect(!probe.isRunning, "a run started within the cache period")
        usleep(400_000)
        #expect(probe.applicationState() == .critical, "the stale answer, while the refresh runs")
        #expect(probe.isRunning)
        #expect(Self.settle(probe))
        #expect(probe.applicationState() == .healthy)
    }

    /// No timer refreshes the answer: only a caller asking starts a run, so an idle daemon whose
    /// host sends no heartbeats is never woken by its probe.
    @Test func nothingRunsUnlessAsked() {
        let probe = Self.shell("exit 0", cacheSeconds: 0.1)
        #expect(ProbeLoop.answer(probe) == .healthy)
        #expect(!ProbeLoop.readable(probe.descriptor, waitMilliseconds: 400))
        #expect(!probe.isRunning)
    }

    @Test func missingCommandIsUnknownAtOnce() {
        #expect(CommandHealthProbe(executable: "/nonexistent/probe", arguments: []).applicationState() == .unknown)
    }

    /// A reload replaces a probe whose command hangs: the replace returns at once, the old command
    /// is killed and reaped through the holder's descriptor (no zombie), the new probe answers.
    @Test func replaceKillsTheOldCommand() throws {
        let marker = ProbeLoop.marker("replace")
        let holder = ReplaceableHealthProbe(Self.shell("sleep 30; : \(marker)"))
        let descriptor = holder.descriptor
        #expect(ProbeLoop.eventually { ProbeLoop.processes(containing: marker).count == 1 })
        let pid = try #require(ProbeLoop.processes(containing: marker).first)
        let start = Date()
        holder.replace(with: Self.shell("exit 1"))
        #expect(Date().timeIntervalSince(start) < 0.5)
        #expect(holder.descriptor == descriptor, "the loop's input changed")
        #expect(ProbeLoop.answer(holder) == .critical)
        #expect(Self.settle(holder))
        #expect(!ProbeLoop.exists(pid), "the old command is still there (zombie?)")
        holder.replace(with: nil)
        #expect(holder.applicationState() == nil)
    }

    @Test func replacingAProbeWithItselfKeepsItRunning() {
        let probe = Self.shell("sleep 0.2")
        let holder = ReplaceableHealthProbe(probe)
        holder.replace(with: probe)
        #expect(ProbeLoop.answer(holder) == .healthy)
    }

    @Test func hundredReplacesLeakNoDescriptorsAndNoChildren() throws {
        let marker = ProbeLoop.marker("replaces")
        let holder = ReplaceableHealthProbe(nil)
        let before = ProbeLoop.openDescriptors
        for round in 0..<100 {
            // Half hang (killed on the next replace), half end before it.
            holder.replace(with: Self.shell(round % 2 == 0 ? "sleep 30; : \(marker)" : "exit 0; : \(marker)"))
            if round % 10 == 9 { _ = ProbeLoop.readable(holder.descriptor, waitMilliseconds: 20) }
            if ProbeLoop.readable(holder.descriptor, waitMilliseconds: 0) { holder.handleReadable() }
        }
        holder.replace(with: nil)
        #expect(Self.settle(holder))
        #expect(ProbeLoop.processes(containing: marker).isEmpty, "children left")
        // Other suites run in parallel and hold descriptors for a moment (up to ~10 seen): a margin of
        // 30, below the 50 that even a leak in only the half of the rounds that hang would show.
        #expect(ProbeLoop.openDescriptors <= before + 30, "\(before) descriptors before, \(ProbeLoop.openDescriptors) after")
    }

    @Test func hundredProbesLeakNoDescriptors() {
        let before = ProbeLoop.openDescriptors
        for _ in 0..<100 {
            #expect(ProbeLoop.answer(CommandHealthProbe(executable: "/bin/true", arguments: [])) == .healthy)
        }
        #expect(ProbeLoop.openDescriptors <= before + 30, "\(before) descriptors before, \(ProbeLoop.openDescriptors) after")
    }
}
