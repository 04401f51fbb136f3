import AgentCore
import DaemonSupport
import HVProtocol
import HVSystem
import ICFramework
import IPInjection
import KVPStore
import Logging
import NetInfo

/// KVP's entry in the daemon's service table, and the one place its engine is built: the pool
/// files, the live network facts behind the auto pool and GET_IP_INFO, and rate-limited logging of
/// what the host can trigger over and over. The same engine serves the ring (``KVPICService``) and,
/// in kernel mode, `/dev/vmbus/hv_kvp` (``KernelDeviceFrontEnd``) — also for `hvagent kvp-daemon`.
public final class KVPAgentService: AgentService {
    public let id = ICServiceID.kvp
    public let engine: KVPEngine
    /// The auto pool's and GET_IP_INFO's source; nil when netlink is unavailable (pool 2 is then
    /// empty and GET_IP_INFO fails, KVP otherwise works). The daemon hands it reloaded rules.
    public let facts: NetworkFacts?
    /// The kernel's KVP device (kernel mode).
    public let devicePath: String
    /// Log every kernel-mode request and its status (`kvp-daemon -d`, like hv_kvp_daemon's).
    public var traceRequests = false
    private let logger: Logger

    /// - Parameters:
    ///   - poolDirectory: where `.kvp_pool_0..4` live; served read-only (with a logged reason) when
    ///     it cannot be written.
    ///   - lockTimeout: the longest wait for another program's pool-file lock.
    ///   - ipInjection: the backend SET_IP_INFO is applied through; nil answers it HV_E_FAIL. The
    ///     compatibility files go into `poolDirectory` (`/var/lib/hyperv`, as upstream).
    ///   - ipHelperSocket: where `hvagent ip-helper` listens (`[kvp] ip_helper_socket`): the
    ///     packaged agent holds no CAP_NET_ADMIN, so the helper applies the request (with its own
    ///     reading of the same three settings); empty applies it in this process.
    public convenience init(poolDirectory: String, lockTimeout: Double = 10,
                            devicePath: String = KernelDeviceFrontEnd.defaultDevicePath,
                            interfaceRules: InterfaceRules = InterfaceRules(), ipInjection: IPInjectionBackendKind? = nil,
                            ipVerifyTimeout: Duration = .seconds(20), ipHelperSocket: String = "", logger: Logger = Logger(label: "hvagent")) throws {
        // What the host can trigger over and over (a failing SET, a malformed message) is logged
        // once per distinct line per minute.
        let limiter = RefusalLogLimiter()
        let hostLog: (String) -> Void = { line in if let text = limiter.line(kind: line, text: line) { logger.info("\(text)") } }
        let store = try PoolStore.openForDaemon(directory: poolDirectory, lockTimeout: lockTimeout,
                                                log: { logger.warning("\($0)") })
        let facts: NetworkFacts?
        do {
            facts = try NetworkFacts(configuration: .init(rules: interfaceRules))
        } catch {
            facts = nil
            logger.warning("KVP: network facts unavailable (\(error)); the auto pool will be empty")
        }
        let engine = KVPEngine(store: store, autoPool: facts, ipInfo: facts, log: hostLog)
        if let ipInjection {
            if !ipHelperSocket.isEmpty {
                engine.ipInjection = try IPInjectionRunner(injector: IPHelperClient(socketPath: ipHelperSocket),
                                                           log: { logger.notice("\($0)") })
            } else if let tracker = facts?.tracker {
                engine.ipInjection = try IPInjectionRunner(
                    injector: IPInjector(kind: ipInjection, tracker: tracker, verifyTimeout: ipVerifyTimeout,
                                         compatibilityDirectory: poolDirectory),
                    log: { logger.notice("\($0)") })
            } else {
                logger.warning("KVP: IP injection needs netlink, which is unavailable; SET_IP_INFO will be answered HV_E_FAIL")
            }
        }
        self.init(engine: engine, facts: facts, devicePath: devicePath, logger: logger)
    }

    /// Serves an engine built elsewhere (tests, benchmarks).
    public init(engine: KVPEngine, facts: NetworkFacts? = nil, devicePath: String = KernelDeviceFrontEnd.defaultDevicePath,
                logger: Logger = Logger(label: "hvagent")) {
        self.engine = engine
        self.facts = facts
        self.devicePath = devicePath
        self.logger = logger
    }

    public func channelHandler(events: ServiceEvents) -> any ICChannelHandler {
        let engine = engine, logger = logger
        return HeldReplyChannelHandler(KVPICService(engine: engine), events: events, start: { settings, answer in
            engine.ipInjection?.start(settings) { answer($0.status) }
        }, abandon: { reason in
            if engine.ipInjection?.isApplying == true {
                logger.info("KVP: the SET_IP_INFO being applied will not be answered (\(reason))")
            }
        })
    }

    /// The network facts' notifications, whatever the mode.
    public func inputs(events: ServiceEvents) -> [PollInput] {
        var inputs: [PollInput] = []
        if let facts { inputs.append(PollInput(descriptor: facts.fileDescriptor) { _ = try? facts.processPendingEvents() }) }
        if let runner = engine.ipInjection { inputs.append(runner.input) }
        return inputs
    }

    /// Kernel mode: KVP over `/dev/vmbus/hv_kvp`, in the same loop. The device is never waited for:
    /// when it fails (or another program holds it, docs/COMPATIBILITY.md B14), a one-shot timer
    /// reopens it after the front end's back-off while the other services go on.
    public func kernelModeInputs(events: ServiceEvents) throws -> [PollInput] {
        try kernelModeInputs(events: events, firstOpenMustSucceed: false)
    }

    /// As ``kernelModeInputs(events:)``; with `firstOpenMustSucceed` (`hvagent kvp-daemon`, like
    /// hv_kvp_daemon) a first open or registration that fails for any reason but EBUSY (another
    /// program holds the device) is thrown instead of retried: not a Hyper-V guest, hv_utils not
    /// loaded, not root.
    public func kernelModeInputs(events: ServiceEvents, firstOpenMustSucceed: Bool) throws -> [PollInput] {
        let limiter = RefusalLogLimiter()
        let logger = logger
        let frontEnd = KernelDeviceFrontEnd(engine: engine, devicePath: devicePath,
                                            log: { line in if let text = limiter.line(kind: line, text: line) { logger.info("\(text)") } })
        frontEnd.traceRequests = traceRequests
        let retry = try LoopTimer()
        func failed(_ reason: String) {
            events.emit(.channelClosed(.kvp, reason: reason))
            // Delay at least 0.1 s: a device that cannot be opened at all must not spin the loop.
            let delay = max(frontEnd.reopenDelayMicroseconds, 100_000)
            if let line = limiter.line(kind: "kvp-device", text: "KVP: \(reason); reopening in \(delay / 1000) ms") {
                logger.error("\(line)")
            }
            try? retry.arm(afterMicroseconds: delay)
        }
        frontEnd.onDeviceLost = { failed($0) }
        do {
            try frontEnd.start()
            events.emit(.channelOpened(.kvp))
        } catch {
            if firstOpenMustSucceed && error.errno != .resourceBusy { throw error }
            failed("\(error)")
        }
        return [
            PollInput(currentDescriptor: { frontEnd.descriptor }) {
                do {
                    if try frontEnd.serviceOne() { events.emit(.packet(.kvp, .handled(type: .kvpExchange, status: .ok))) }
                    if frontEnd.descriptor < 0 { failed("\(frontEnd.devicePath) keeps failing") }
                } catch {
                    failed("\(error)")
                }
            },
            PollInput(descriptor: retry.descriptor) {
                retry.acknowledge()
                do {
                    try frontEnd.reopen()
                    events.emit(.channelOpened(.kvp))
                } catch {
                    failed("\(error)")
                }
            },
        ]
    }
}
