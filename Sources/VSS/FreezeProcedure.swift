import HVSystem
import FoundationEssentials
import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The FREEZE and THAW work itself, as hv_vss_daemon's `vss_operate` does it but by the rules of
/// docs/PROTOCOL.md §6.5.7: hooks, the plan from mountinfo, FIFREEZE children first, rollback of
/// exactly what this pass froze, the frozen list kept on tmpfs.
///
/// It blocks (hooks, FIFREEZE syncing dirty data), so the agent runs it on a worker thread, never
/// on its loop. It never logs: it returns its notes, and the agent logs them once nothing of it is
/// frozen any more (V2).
public struct FreezeProcedure: Sendable {
    public var mountInfoPath: String
    public var rules: FreezePlan.Rules
    public var hooks: VSSHookRunner
    public var freezeTimeoutSeconds: Double
    public var frozenList: FrozenList
    public var freezer: any FilesystemFreezer
    /// Builds the device facts for one plan (a closure: the real ones are not Sendable-relevant
    /// and tests substitute a fake system).
    public var facts: @Sendable () -> any BlockDeviceFacts

    public init(mountInfoPath: String, rules: FreezePlan.Rules, hooks: VSSHookRunner, freezeTimeoutSeconds: Double,
                frozenList: FrozenList, freezer: any FilesystemFreezer, facts: @escaping @Sendable () -> any BlockDeviceFacts) {
        self.mountInfoPath = mountInfoPath
        self.rules = rules
        self.hooks = hooks
        self.freezeTimeoutSeconds = freezeTimeoutSeconds
        self.frozenList = frozenList
        self.freezer = freezer
        self.facts = facts
    }

    /// What a FREEZE or THAW did.
    public struct Outcome: Sendable {
        public var status: HResult
        /// Mount points frozen by hvagent now (freeze order).
        public var frozen: [String]
        /// Lines for the log, written by the caller once nothing is frozen.
        public var notes: [String]
    }

    /// The current plan (also what doctor shows).
    public func plan() -> FreezePlan {
        let text = (try? String(contentsOfFile: mountInfoPath, encoding: .utf8)) ?? ""
        return FreezePlan.make(mounts: MountInfoEntry.parseAll(text), rules: rules, facts: facts())
    }

    public func freeze() -> Outcome {
        let deadline = Date().addingTimeInterval(freezeTimeoutSeconds)
        var notes: [String] = []
        let names = hooks.hooks()
        let ran = hooks.run(names, argument: "freeze", deadline: deadline, stopOnFailure: true)
        if let failed = ran.first(where: { !$0.succeeded }) {
            notes.append("FREEZE refused: freeze hook \(failed.description)")
            notes += failHooks(ran.map(\.name))
            return Outcome(status: .fail, frozen: [], notes: notes)
        }
        let plan: FreezePlan
        do {
            plan = try freezer.plan(local: self.plan)
        } catch {
            notes.append("FREEZE refused: no freeze plan: \(error)")
            notes += failHooks(ran.map(\.name))
            return Outcome(status: .fail, frozen: [], notes: notes)
        }
        for skip in plan.skipped { notes.append("not frozen: \(skip.mountPoint) (\(skip.source)): \(skip.reason)") }
        var frozen: [String] = []
        for target in plan.targets {
            if Date() >= deadline {
                notes.append("FREEZE abandoned: freeze_timeout reached before \(target.mountPoint)")
                return rollBack(frozen, hooksRan: ran.map(\.name), notes: notes)
            }
            switch freezer.freeze(target.mountPoint) {
            case .frozen:
                frozen.append(target.mountPoint)
                do { try frozenList.store(frozen) } catch {
                    notes.append("FREEZE abandoned: \(error)")
                    return rollBack(frozen, hooksRan: ran.map(\.name), notes: notes)
                }
            case .alreadyFrozen:
                notes.append("not frozen: \(target.mountPoint): already frozen by someone else (EBUSY); hvagent will not thaw it")
            case .unsupported:
                notes.append("not frozen: \(target.mountPoint) (\(target.filesystemType)): the filesystem cannot freeze (EOPNOTSUPP)")
            case .failed(let error):
                notes.append("FREEZE failed at \(target.mountPoint): \(Errno(rawValue: error))")
                return rollBack(frozen, hooksRan: ran.map(\.name), notes: notes)
            }
        }
        notes.append("FREEZE succeeded: \(frozen.count) filesystem(s) frozen: \(frozen.joined(separator: " "))")
        return Outcome(status: .ok, frozen: frozen, notes: notes)
    }

    /// Thaws `frozen` (reverse order; a failed FITHAW is retried once), keeps what stays frozen in
    /// the list, then runs the `thaw` hooks in reverse order.
    public func thaw(_ frozen: [String], reason: String) -> Outcome {
        var notes: [String] = []
        let stuck = thawAll(frozen, notes: &notes)
        do { try frozenList.store(stuck) } catch { notes.append("\(error)") }
        let names = hooks.hooks()
        for result in hooks.run(names.reversed(), argument: "thaw", deadline: Date().addingTimeInterval(freezeTimeoutSeconds),
                                stopOnFailure: false) where !result.succeeded {
            notes.append("thaw hook \(result.description)")
        }
        if stuck.isEmpty {
            notes.append("THAW (\(reason)) succeeded: \(frozen.count) filesystem(s) thawed")
            return Outcome(status: .ok, frozen: [], notes: notes)
        }
        notes.append("THAW (\(reason)) failed: still frozen: \(stuck.joined(separator: " "))")
        return Outcome(status: .fail, frozen: stuck, notes: notes)
    }

    /// Thaws what the frozen list names (start-up after a crash, `hvagent vss-thaw`).
    public func thawRecorded(reason: String) -> Outcome? {
        guard frozenList.exists else { return nil }
        return thaw(frozenList.load(), reason: reason)
    }

    /// FITHAW of `frozen` in reverse, a failure retried once; returns what stays frozen (also the
    /// freeze helper's thaw of a connection that went away).
    func thawAll(_ frozen: [String], notes: inout [String]) -> [String] {
        var stuck: [String] = []
        for mountPoint in frozen.reversed() {
            var result = freezer.thaw(mountPoint)
            if case .failed = result { result = freezer.thaw(mountPoint) }
            if case .failed(let error) = result {
                notes.append("FITHAW \(mountPoint) failed: \(Errno(rawValue: error))")
                stuck.insert(mountPoint, at: 0)
            }
        }
        return stuck
    }

    private func rollBack(_ frozen: [String], hooksRan: [String], notes: [String]) -> Outcome {
        var notes = notes
        let stuck = thawAll(frozen, notes: &notes)
        do { try frozenList.store(stuck) } catch { notes.append("\(error)") }
        notes += failHooks(hooksRan)
        notes.append("FREEZE rolled back: \(frozen.count - stuck.count) filesystem(s) thawed")
        return Outcome(status: .fail, frozen: stuck, notes: notes)
    }

    private func failHooks(_ ran: [String]) -> [String] {
        hooks.run(ran.reversed(), argument: "freeze-fail", deadline: Date().addingTimeInterval(freezeTimeoutSeconds),
                  stopOnFailure: false).filter { !$0.succeeded }.map { "freeze-fail hook \($0.description)" }
    }
}
