import AgentConfig
import AgentCore
import DaemonSupport
import HVProtocol
import KVPAgent
import RingTransport
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `hvagent kvp-daemon`: KVP over the kernel's `/dev/vmbus/hv_kvp` in the foreground, a drop-in
/// for `hv_kvp_daemon -n`, on the agent's own event loop: the same KVP entry of the service table
/// in kernel mode, with no VMBus channels, stopped by SIGTERM/SIGINT.
public enum KVPDaemon {
    /// - Parameter traceRequests: log every request and its status (`-d`).
    public static func run(live: LiveSettings, poolDirectory: String, devicePath: String, lockTimeout: Double,
                           traceRequests: Bool) throws {
        let signals = try SignalEvents([SIGTERM, SIGINT])
        // A write to a device that went away must be an error we handle (reopen), never a signal
        // that kills the daemon.
        signal(SIGPIPE, SIG_IGN)
        let logger = Logger(label: "hvagent")
        // Like hv_kvp_daemon, it applies a SET_IP_INFO itself, with the privileges it was started
        // with: the IP helper serves hvagent.service alone.
        let environment = ServiceTable.Environment(
            live: live, kvpPoolDirectory: poolDirectory, kvpLockTimeout: lockTimeout, kvpDevicePath: devicePath, ipHelperSocket: "")
        guard let kvp = try ServiceTable.build([.kvp], in: environment).first as? KVPAgentService else { return }
        kvp.traceRequests = traceRequests
        let agent = try IntegrationAgent(source: NoChannels(), services: [],
                                         observer: AgentObserver.make(board: nil, gate: nil, log: { logger.info("\($0)") },
                                                         routine: { logger.debug("\($0)") }))
        logger.notice("KVP starting; pid is:\(getpid())")
        let events = agent.events(for: .kvp)
        agent.inputs += kvp.inputs(events: events)
        // As hv_kvp_daemon, refuse to start when the device cannot be opened at all; a device another
        // program holds, or one that fails later, is waited for on the loop (docs/COMPATIBILITY.md B14).
        agent.inputs += try kvp.kernelModeInputs(events: events, firstOpenMustSucceed: true)
        agent.inputs.append(PollInput(descriptor: signals.descriptor) {
            for signal in signals.drain() {
                logger.notice("signal \(signal): stopping")
                agent.stop()
            }
        })
        // Start-up is over (the device is open or waited for on the loop): its code pages go back.
        releaseStartupPages(logger)
        try agent.run()
    }
}

/// The kvp-daemon serves no VMBus channel.
final class NoChannels: ChannelSource {
    var pollDescriptor: Int32 { -1 }
    func events() throws -> [ChannelSourceEvent]? { [] }
    func opened(classID: VMBusGUID, instanceID: VMBusGUID) throws {}
    func lost(classID: VMBusGUID, instanceID: VMBusGUID) {}
    func closed(classID: VMBusGUID, instanceID: VMBusGUID) {}
    func reopen(classID: VMBusGUID, instanceID: VMBusGUID) throws -> VMBusChannel { throw ChannelError.rescinded }
}
