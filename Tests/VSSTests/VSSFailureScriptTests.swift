import DaemonSupport
import Foundation
import HVProtocol
import HostSimulator
import Synchronization
import Testing
import TestSupport
import VSS

/// The simulated host's backup failure scripts against the agent's loop (issue 12; docs/PROTOCOL.md
/// §6.5.7, §6.5.8): the real VSS service, coordinator, hooks and frozen list, with a recording
/// freezer in place of FIFREEZE, so nothing real is frozen and no root is needed.
@Suite(.serialized) struct VSSFailureScriptTests {
    final class Notes: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    /// An agent serving heartbeat and VSS against the simulated host.
    final class Loop {
        let directory = TempDir()
        let freezer = RecordingFreezer()
        let notes = Notes()
        let harness: SimHarness
        var host: SimulatedHyperVHost { harness.host }
        var hookLog: String { directory.path + "/hooks.log" }
        var frozenList: FrozenList { FrozenList(path: directory.path + "/frozen") }

        /// - Parameter hooks: name → exit status of a hook that logs "NAME ARGUMENT $HVAGENT_VSS_OPERATION".
        init(thawTimeoutSeconds: Double = 60, hooks: [String: Int] = [:]) throws {
            let procedure = FreezeProcedure.twoDisks(in: directory.path, freezer: freezer)
            let hookLog = directory.path + "/hooks.log"
            for (name, status) in hooks {
                let path = directory.path + "/hooks/" + name
                try "#!/bin/sh\necho \"\(name) $1 $HVAGENT_VSS_OPERATION\" >> '\(hookLog)'\nexit \(status)\n"
                    .write(toFile: path, atomically: true, encoding: .utf8)
                chmod(path, 0o755)
            }
            let notes = self.notes
            let coordinator = try VSSCoordinator(procedure: procedure, thawTimeoutSeconds: thawTimeoutSeconds, window: FreezeWindow(),
                                                 log: { line in notes.lines.withLock { $0.append(line) } })
            harness = try SimHarness(configure: { $0.services = [.heartbeat, .vss] }, vss: VSSAgentService(coordinator: coordinator))
            try harness.host.offerAll()
            let host = harness.host
            #expect(try host.run(timeout: 10) { host.negotiationCount[.vss, default: 0] > 0 })
        }

        var hooksRan: [String] {
            ((try? String(contentsOfFile: hookLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func stop() {
            harness.stop()
            try? FileManager.default.removeItem(atPath: directory.path + "/hooks")
        }
    }

    static func steps(_ pairs: [(String, HResult)]) -> [VSSHostScript.Step] { pairs.map { VSSHostScript.Step(name: $0.0, status: $0.1) } }

    @Test func aProductionCheckpointFreezesChildrenFirstAndThawsInReverse() throws {
        let loop = try Loop()
        defer { loop.stop() }
        let steps = try loop.host.vssRun(.backup(hold: 0.1), whileFrozen: {
            #expect(loop.freezer.frozen == ["/data", "/"])
            #expect(loop.frozenList.load() == ["/data", "/"])
        })
        #expect(steps == Self.steps([("HOT_BACKUP", .ok), ("FREEZE", .ok), ("THAW", .ok)]))
        #expect(loop.freezer.calls == ["freeze /data", "freeze /", "thaw /", "thaw /data"])
        #expect(!loop.frozenList.exists)
    }

    @Test func theChannelGoingAwayWhileFrozenThaws() throws {
        // Guest Services switched off, or the host's backup service restarting: the channel is
        // rescinded while the filesystems are frozen (docs/PROTOCOL.md §6.5.7 step 8).
        let loop = try Loop()
        defer { loop.stop() }
        #expect(try loop.host.vssHotBackup().status == .ok)
        #expect(try loop.host.vssFreeze().status == .ok)
        #expect(loop.freezer.frozen == ["/data", "/"])
        try loop.host.rescind(.vss)
        let freezer = loop.freezer
        #expect(try loop.host.run(timeout: 10) { freezer.frozen.isEmpty })
        #expect(loop.freezer.calls == ["freeze /data", "freeze /", "thaw /", "thaw /data"])
        #expect(!loop.frozenList.exists)
    }

    @Test func aThawThatNeverComesIsDoneByTheWatchdogAndTheLateThawGetsSOK() throws {
        let loop = try Loop(thawTimeoutSeconds: 0.3)
        defer { loop.stop() }
        let steps = try loop.host.vssRun(.thawNeverComes(wait: 1.5), whileFrozen: {
            // Still inside the host's hold: the guest has thawed on its own.
            #expect(loop.freezer.frozen.isEmpty)
            #expect(!loop.frozenList.exists)
        })
        #expect(steps == Self.steps([("HOT_BACKUP", .ok), ("FREEZE", .ok), ("THAW", .ok)]))
        #expect(loop.freezer.calls == ["freeze /data", "freeze /", "thaw /", "thaw /data"])
        #expect(loop.notes.all.contains { $0.hasPrefix("no THAW within") })
        #expect(loop.notes.all.contains("THAW (watchdog) succeeded: 2 filesystem(s) thawed"))
    }

    @Test func aFreezeWhileFrozenIsSOKAndFreezesNothingTwice() throws {
        let loop = try Loop()
        defer { loop.stop() }
        let steps = try loop.host.vssRun(.freezeWhileFrozen)
        #expect(steps == Self.steps([("HOT_BACKUP", .ok), ("FREEZE", .ok), ("FREEZE", .ok), ("THAW", .ok)]))
        #expect(loop.freezer.calls == ["freeze /data", "freeze /", "thaw /", "thaw /data"])
    }

    @Test func aFailingPreFreezeHookFailsTheFreezeRunsFreezeFailAndFreezesNothing() throws {
        let loop = try Loop(hooks: ["10-first": 0, "20-fails": 3, "30-never": 0])
        defer { loop.stop() }
        let steps = try loop.host.vssRun(.backup(hold: 0.1))
        #expect(steps == Self.steps([("HOT_BACKUP", .ok), ("FREEZE", .fail)]))
        #expect(loop.freezer.calls.isEmpty)
        #expect(!loop.frozenList.exists)
        // freeze in name order up to the failure; freeze-fail in reverse on the hooks that ran.
        #expect(loop.hooksRan == ["10-first freeze freeze", "20-fails freeze freeze",
                                  "20-fails freeze-fail freeze-fail", "10-first freeze-fail freeze-fail"])
        #expect(loop.notes.all.contains("FREEZE refused: freeze hook 20-fails exited with status 3"))
        // The host may try again at once; with the hook fixed the backup goes through.
        try FileManager.default.removeItem(atPath: loop.directory.path + "/hooks/20-fails")
        try FileManager.default.removeItem(atPath: loop.hookLog)
        #expect(try loop.host.vssRun(.backup(hold: 0.1)) == Self.steps([("HOT_BACKUP", .ok), ("FREEZE", .ok), ("THAW", .ok)]))
        #expect(loop.hooksRan == ["10-first freeze freeze", "30-never freeze freeze", "30-never thaw thaw", "10-first thaw thaw"])
    }
}
