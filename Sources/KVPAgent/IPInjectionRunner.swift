import AgentCore
import HVProtocol
import IPInjection

/// Runs a SET_IP_INFO through an ``IPInjecting`` — the ``IPInjector`` in this process, or the
/// ``IPHelperClient`` that asks `hvagent ip-helper` — on a thread of its own (``OffLoopWork``) and
/// hands the outcome back to the loop thread, where the front end that held the host's reply sends
/// it. The loop never waits on a network manager or the helper (docs/ARCHITECTURE.md, "IP injection").
public final class IPInjectionRunner {
    private let injector: any IPInjecting
    private let work: OffLoopWork<IPInjector.Outcome>
    private var waiting: ((IPInjector.Outcome) -> Void)?
    private let log: (String) -> Void

    public init(injector: any IPInjecting, log: @escaping (String) -> Void) throws {
        self.injector = injector
        self.log = log
        work = try OffLoopWork()
    }

    /// Loop thread. `done` runs later on the loop thread, once, with the outcome (logged here). A
    /// request while another is being applied is answered HV_E_FAIL at once (the host sends one
    /// transaction at a time; a second one must not race the first).
    public func start(_ settings: HostIPSettings, done: @escaping (IPInjector.Outcome) -> Void) {
        let injector = injector
        guard waiting == nil, work.start({ injector.set(settings) }) else {
            let refused = IPInjector.Outcome(status: .fail, message: "SET_IP_INFO for \(settings.adapterID) answered HV_E_FAIL: "
                                             + "another one is still being applied")
            log(refused.message)
            done(refused)
            return
        }
        waiting = done
    }

    /// Whether a SET_IP_INFO is being applied now.
    public var isApplying: Bool { waiting != nil }

    /// For the loop: delivers the finished outcome.
    public var input: PollInput {
        PollInput(descriptor: work.descriptor) { [self] in
            for outcome in work.collect() {
                log(outcome.message)
                let done = waiting
                waiting = nil
                done?(outcome)
            }
        }
    }
}
