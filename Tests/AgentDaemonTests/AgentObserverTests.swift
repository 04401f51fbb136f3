import AgentCore
import Heartbeat
import Synchronization
import Testing
import Timesync
@testable import AgentDaemon

/// What the daemon writes to the journal: a heartbeat answered or a slewed time sample (every few
/// seconds on Hyper-V) goes to the routine (debug) log, a clock step, a negotiation or a failure to
/// the normal one.
@Suite struct AgentObserverTests {
    final class Lines: Sendable {
        let normal = Mutex<[String]>([])
        let routine = Mutex<[String]>([])
    }

    @Test func routineActivitiesGoToTheRoutineLog() {
        let lines = Lines()
        let observer = AgentObserver.make(board: nil, gate: nil, log: { line in lines.normal.withLock { $0.append(line) } },
                                          routine: { line in lines.routine.withLock { $0.append(line) } })
        observer(.activity(.heartbeat, HeartbeatAnswered(sequence: 7)))
        observer(.activity(.timesync, TimesyncSample(offsetNanoseconds: 1_000, action: .setFrequency(ppm: 1.5, offsetNanoseconds: 1_000))))
        observer(.activity(.timesync, TimesyncSample(offsetNanoseconds: 9_000_000_000, action: .step(nanoseconds: 9_000_000_000, reason: .sync))))
        observer(.channelOpened(.kvp))
        observer(.actionFailed(.shutdown, error: "systemctl failed"))
        #expect(lines.routine.withLock { $0 } == ["heartbeat: seq 7 -> 8", "timesync: guest behind by 0.001 ms -> slew +1.5 ppm"])
        let normal = lines.normal.withLock { $0 }
        #expect(normal.count == 3)
        #expect(normal.first?.hasPrefix("timesync: guest behind by 9000") == true)
        #expect(normal.first?.hasSuffix("-> step (SYNC)") == true)
    }

    /// Without a routine log (the demo's timeline) every line goes to the one log.
    @Test func withoutARoutineLogEverythingIsLogged() {
        let lines = Lines()
        let observer = AgentObserver.make(board: nil, gate: nil, log: { line in lines.normal.withLock { $0.append(line) } })
        observer(.activity(.heartbeat, HeartbeatAnswered(sequence: 1)))
        #expect(lines.normal.withLock { $0 } == ["heartbeat: seq 1 -> 2"])
    }
}
