import CHVSupport
import FoundationEssentials
import Synchronization
import Heartbeat
import ICFramework
import KVPAgent
import RingTransport
import ShutdownSvc
import SimTransport
import Timesync
import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The agent: accepts channels from a ``ChannelSource`` by class GUID, runs one `ICChannelLoop`
/// per IC channel, and watches any extra ``PollInput``s, all in one poll loop on the calling thread.
/// Nothing wakes it when idle: it sleeps in poll() with no timeout unless an action waits for the
/// host to consume a reply.
public final class IntegrationAgent: @unchecked Sendable {
    private let source: any ChannelSource
    /// Extra descriptors to watch; set before `run()`.
    public var inputs: [PollInput] = []
    private let configuration: AgentConfiguration
    private let observer: AgentEventObserver?
    private var channels: [VMBusGUID: (classID: VMBusGUID, loop: ICChannelLoop)] = [:]
    /// Written by `stop()` from any thread to wake the loop.
    private let stopDescriptor: Int32
    private let stopLock = Mutex(())
    private var stopRequested = false

    public convenience init(endpoint: SimGuestEndpoint, configuration: AgentConfiguration, observer: AgentEventObserver? = nil) throws {
        try self.init(source: SimChannelSource(endpoint: endpoint), configuration: configuration, observer: observer)
    }

    public init(source: any ChannelSource, configuration: AgentConfiguration, observer: AgentEventObserver? = nil) throws {
        self.source = source
        self.configuration = configuration
        self.observer = observer
        stopDescriptor = chv_eventfd(1)
        guard stopDescriptor >= 0 else { throw ChannelError.system(call: "eventfd", errno: errno) }
    }

    deinit {
        close(stopDescriptor)
    }

    /// Asks `run()` to return; safe from any thread.
    public func stop() {
        stopLock.withLock { _ in stopRequested = true }
        var one: UInt64 = 1
        _ = write(stopDescriptor, &one, 8)
    }

    private var shouldStop: Bool {
        return stopLock.withLock { _ in
            return stopRequested
        }
    }

    /// Runs until `stop()` or until the host goes away (returns normally in both cases).
    public func run() throws {
        while !shouldStop {
            let entries = Array(channels)
            let extra = inputs
            var fds = [pollfd(fd: source.pollDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stopDescriptor, events: Int16(POLLIN), revents: 0)]
            fds += entries.map { pollfd(fd: $0.value.loop.channel.pollDescriptor, events: Int16(POLLIN), revents: 0) }
            fds += extra.map { pollfd(fd: $0.descriptor(), events: Int16(POLLIN), revents: 0) }
            // Deferred actions are waiting for the host to read our reply: look again soon.
            let waiting = entries.contains { $0.value.loop.hasPendingActions }
            let count = poll(&fds, nfds_t(fds.count), waiting ? 2 : -1)
            if count < 0 {
                if errno == EINTR { continue }
                throw ChannelError.system(call: "poll", errno: errno)
            }
            if fds[0].revents != 0 {
                guard let events = try source.events() else { return }  // the host disconnected
                for event in events { try handle(event) }
            }
            for (index, entry) in entries.enumerated() where fds[index + 2].revents != 0 {
                service(entry.key, loop: entry.value.loop, acknowledge: true)
            }
            for (index, input) in extra.enumerated() where fds[index + 2 + entries.count].revents != 0 {
                input.onReadable()
            }
            for entry in channels.values where entry.loop.hasPendingActions {
                entry.loop.runDueActions()
            }
        }
    }

    /// Takes the channels the source has now (call before `run()` for sources that offer at
    /// start-up, like uio devices found in sysfs).
    public func acceptPendingChannels() throws {
        for event in try source.events() ?? [] { try handle(event) }
    }

    /// Services open now, by name.
    public var openServices: [String] { channels.values.map { $0.loop.handler.serviceName }.sorted() }

    private func service(_ instance: VMBusGUID, loop: ICChannelLoop, acknowledge: Bool) {
        do {
            if acknowledge { _ = try loop.channel.waitForSignal(timeoutMilliseconds: 0) }
            try loop.drain()
            loop.runDueActions()
        } catch {
            let classID = channels.removeValue(forKey: instance)?.classID
            observer?(.channelClosed(service: loop.handler.serviceName, reason: "\(error)"))
            if let classID { source.lost(classID: classID, instanceID: instance) }
        }
    }

    private func handle(_ event: ChannelSourceEvent) throws {
        switch event {
        case .offer(let classID, let instanceID, let channel):
            guard let handler = makeHandler(classID: classID) else {
                observer?(.ignoredOffer(classID: classID.description))
                return
            }
            let loop = ICChannelLoop(channel: channel, handler: handler, consumeTimeout: configuration.replyConsumeTimeout)
            channels[instanceID] = (classID, loop)
            try source.opened(classID: classID, instanceID: instanceID)
            observer?(.channelOpened(service: handler.serviceName))
            service(instanceID, loop: loop, acknowledge: false)
        case .rescind(_, let instanceID):
            if let entry = channels.removeValue(forKey: instanceID) {
                observer?(.channelClosed(service: entry.loop.handler.serviceName, reason: "rescinded"))
            }
        case .refused(let reason):
            observer?(.actionFailed(service: "vmbus", error: "offer refused: \(reason)"))
        }
    }

    private func makeHandler(classID: VMBusGUID) -> (any ICChannelHandler)? {
        let observer = self.observer
        let configuration = self.configuration
        switch classID {
        case ICServiceID.heartbeat.classID:
            return ServiceChannelHandler(
                service: HeartbeatService(healthProbe: configuration.heartbeatProbe),
                perform: { _, _ in nil },
                observe: { outcome, endpoint in
                    observer?(.packet(service: "heartbeat", event: outcome.event))
                    if case .handled(.heartbeat, _) = outcome.event, let sequence = endpoint.service.lastSequence {
                        observer?(.heartbeat(sequence: sequence))
                    }
                })
        case ICServiceID.shutdown.classID:
            return ServiceChannelHandler(
                service: ShutdownService(hibernation: configuration.hibernation),
                perform: { request, _ in
                    { consumed in
                        observer?(.shutdownStarted(request, replyConsumed: consumed))
                        do { try configuration.shutdownPerformer.perform(request) } catch {
                            observer?(.actionFailed(service: "shutdown", error: "\(error)"))
                        }
                    }
                },
                observe: { outcome, _ in observer?(.packet(service: "shutdown", event: outcome.event)) })
        case ICServiceID.timesync.classID:
            let actuator = TimesyncActuator(clock: configuration.clock, chrony: configuration.chrony)
            return ServiceChannelHandler(
                service: TimesyncService(mode: configuration.timesyncMode, clock: configuration.clock,
                                         stepThresholdNanoseconds: configuration.timesyncStepThreshold),
                perform: { action, _ in
                    { _ in
                        do { try actuator.apply(action) } catch {
                            observer?(.actionFailed(service: "timesync", error: "\(error)"))
                        }
                    }
                },
                observe: { outcome, endpoint in
                    observer?(.packet(service: "timesync", event: outcome.event))
                    if case .handled(.timesync, _) = outcome.event, let offset = endpoint.service.lastOffsetNanoseconds {
                        observer?(.timesync(offsetNanoseconds: offset, action: outcome.action))
                    }
                })
        case ICServiceID.kvp.classID:
            guard let engine = configuration.kvpEngine else { return nil }
            return ServiceChannelHandler(
                service: KVPICService(engine: engine),
                perform: { _, _ in nil },
                observe: { outcome, _ in observer?(.packet(service: "kvp", event: outcome.event)) })
        default:
            return nil
        }
    }
}
