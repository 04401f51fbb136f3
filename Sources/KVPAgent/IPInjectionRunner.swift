import AgentCore
import IPInjection

/// Runs SET_IP_INFO requests through an ``IPInjector`` off the agent's loop and hands each outcome
/// back to the loop thread (``LoopMailbox``), where the front end that held the host's reply sends
/// it. The loop never waits on a network manager (docs/ARCHITECTURE.md, "IP injection").
public final class IPInjectionRunner {
    private let injector: IPInjector
    private let mailbox: LoopMailbox<Finished>
    private var waiting: [Int: (IPInjector.Outcome) -> Void] = [:]
    private var nextID = 0
    private let log: (String) -> Void

    private struct Finished: Sendable {
        var id: Int
        var outcome: IPInjector.Outcome
    }

    public init(injector: IPInjector, log: @escaping (String) -> Void) throws {
        self.injector = injector
        self.log = log
        mailbox = try LoopMailbox()
    }

    /// Loop thread. `done` runs later on the loop thread, once, with the outcome (logged here).
    public func start(_ settings: HostIPSettings, done: @escaping (IPInjector.Outcome) -> Void) {
        let id = nextID
        nextID += 1
        waiting[id] = done
        let injector = injector, mailbox = mailbox
        Task { mailbox.post(Finished(id: id, outcome: await injector.set(settings))) }
    }

    /// For the loop: delivers finished outcomes.
    public var input: PollInput {
        mailbox.input { [self] finished in
            log(finished.outcome.message)
            waiting.removeValue(forKey: finished.id)?(finished.outcome)
        }
    }
}
