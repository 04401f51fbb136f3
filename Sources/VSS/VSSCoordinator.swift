import HVSystem
import AgentCore
import DaemonSupport
import FoundationEssentials
import HVProtocol

/// The backup state machine both front ends (the uio channel and `/dev/vmbus/hv_vss`) drive
/// (docs/PROTOCOL.md §6.5.7): one freeze at a time, worked off the loop, with the watchdog, the
/// frozen list and the log window around it. Loop thread only.
///
/// Why one object for both modes: the rules that keep a VM from staying frozen (watchdog, thaw on
/// channel loss, on re-negotiation, on stop) must not depend on who carries the messages.
public final class VSSCoordinator {
    public enum Phase: Hashable, Sendable {
        case idle
        case freezing
        /// The mount points hvagent froze, since when.
        case frozen([String])
        case thawing
    }

    public private(set) var phase: Phase = .idle
    public let procedure: FreezeProcedure
    public var thawTimeoutSeconds: Double
    private let work: OffLoopWork<Finished>
    private let watchdog: LoopTimer
    private let window: FreezeWindow
    private let log: (String) -> Void
    /// Who waits for the running job's answer; nil when nobody does (watchdog, channel loss).
    private var waiting: ((HResult) -> Void)?
    /// A THAW (or a channel loss) came while the FREEZE was still running: thaw as soon as it ends.
    private var thawAfterFreeze: (reply: ((HResult) -> Void)?, reason: String)?
    /// Watchdog thaws so far (status, tests).
    public private(set) var watchdogThaws = 0

    private enum Job: Sendable { case freeze, thaw(reason: String) }
    private struct Finished: Sendable {
        var job: Job
        var outcome: FreezeProcedure.Outcome
    }

    /// - Parameter log: where notes go; called only once nothing is frozen, or for lines that the
    ///   window holds anyway (the log handler holds while ``FreezeWindow/isOpen``).
    public init(procedure: FreezeProcedure, thawTimeoutSeconds: Double, window: FreezeWindow = .shared,
                log: @escaping (String) -> Void) throws {
        self.procedure = procedure
        self.thawTimeoutSeconds = thawTimeoutSeconds
        self.window = window
        self.log = log
        work = try OffLoopWork()
        watchdog = try LoopTimer()
    }

    /// What the loop watches: finished jobs and the watchdog.
    public var inputs: [PollInput] {
        [PollInput(descriptor: work.descriptor, onReadable: { [weak self] in self?.jobsFinished() }),
         PollInput(descriptor: watchdog.descriptor, onReadable: { [weak self] in self?.watchdogFired() })]
    }

    public var isFrozen: Bool { if case .frozen = phase { true } else { false } }

    /// HOT_BACKUP: ready when no freeze or thaw is in progress (a repeated FREEZE while frozen is
    /// answered S_OK, so "frozen" is ready too).
    public var readyForBackup: Bool { phase == .idle || isFrozen }

    /// FREEZE. `reply` is called on the loop thread, now or when the work is done.
    public func freeze(reply: @escaping (HResult) -> Void) {
        switch phase {
        case .frozen:
            reply(.ok)  // a repeated FREEZE: Linux's EBUSY tolerance gives S_OK too
        case .freezing, .thawing:
            log("FREEZE refused: a freeze or thaw is still in progress")
            reply(.fail)
        case .idle:
            window.open()
            let procedure = self.procedure
            guard work.start({ Finished(job: .freeze, outcome: procedure.freeze()) }) else {
                window.closeAndFlush()
                log("FREEZE refused: no worker thread")
                reply(.fail)
                return
            }
            phase = .freezing
            waiting = reply
        }
    }

    /// THAW: idempotent (S_OK when nothing is frozen).
    public func thaw(reason: String = "host", reply: @escaping (HResult) -> Void) {
        switch phase {
        case .idle:
            reply(.ok)
        case .frozen(let list):
            startThaw(list, reason: reason, reply: reply)
        case .freezing:
            thawAfterFreeze = (reply, reason)
        case .thawing:
            reply(.fail)
        }
    }

    /// The channel or device went away, or the host negotiated again: nobody will read a pending
    /// answer, and whatever is frozen is thawed now (V3).
    public func abandon(reason: String) {
        waiting = nil
        switch phase {
        case .frozen(let list): startThaw(list, reason: reason, reply: nil)
        case .freezing: thawAfterFreeze = (nil, reason)
        case .idle, .thawing: break
        }
    }

    /// Start-up: thaws what a previous run recorded (it crashed or was killed while frozen).
    /// Blocks: nothing else runs yet.
    public func thawLeftovers() {
        guard let outcome = procedure.thawRecorded(reason: "left frozen by a previous run") else { return }
        for note in outcome.notes { log(note) }
    }

    /// Stop (SIGTERM): waits for a running job, then thaws synchronously. Blocks, on purpose.
    public func stop() {
        watchdog.disarm()
        work.waitIdle()
        for finished in work.collect() { settle(finished) }
        if case .frozen(let list) = phase {
            let outcome = procedure.thaw(list, reason: "agent stopping")
            phase = .idle
            window.closeAndFlush()
            for note in outcome.notes { log(note) }
        }
    }

    private func startThaw(_ list: [String], reason: String, reply: ((HResult) -> Void)?) {
        watchdog.disarm()
        let procedure = self.procedure
        guard work.start({ Finished(job: .thaw(reason: reason), outcome: procedure.thaw(list, reason: reason)) }) else {
            reply?(.fail)
            return
        }
        phase = .thawing
        waiting = reply
    }

    private func jobsFinished() {
        for finished in work.collect() { settle(finished) }
    }

    private func settle(_ finished: Finished) {
        let reply = waiting
        waiting = nil
        let outcome = finished.outcome
        if outcome.frozen.isEmpty {
            phase = .idle
            // Nothing of hvagent is frozen any more: the held lines can be written.
            window.closeAndFlush()
        } else {
            phase = .frozen(outcome.frozen)
            if case .freeze = finished.job {
                try? watchdog.arm(afterMicroseconds: UInt64(max(thawTimeoutSeconds, 0.001) * 1_000_000))
            } else {
                // A FITHAW failed: keep retrying through the watchdog (docs/PROTOCOL.md §6.5.7 step 7).
                try? watchdog.arm(afterMicroseconds: 1_000_000)
            }
        }
        for note in outcome.notes { log(note) }
        reply?(outcome.status)
        if case .freeze = finished.job, let pending = thawAfterFreeze {
            thawAfterFreeze = nil
            thaw(reason: pending.reason, reply: pending.reply ?? { _ in })
        }
    }

    private func watchdogFired() {
        _ = watchdog.acknowledge()
        guard case .frozen(let list) = phase else { return }
        watchdogThaws += 1
        log("no THAW within \(Int(thawTimeoutSeconds)) s: thawing \(list.count) filesystem(s) (vss.thaw_timeout_seconds)")
        startThaw(list, reason: "watchdog", reply: nil)
    }
}
