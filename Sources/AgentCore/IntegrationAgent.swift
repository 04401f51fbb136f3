import HVSystem
import CHVSupport
import DaemonSupport
import HVProtocol
import ICFramework
import RingTransport
import SimTransport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The agent: accepts channels from a ``ChannelSource`` by class GUID, runs one `ICChannelLoop`
/// per IC channel with the handler its ``AgentService`` makes, and watches any extra
/// ``PollInput``s, all in one poll loop on the calling thread.
///
/// Nothing wakes it when idle: it sleeps in poll() with no timeout unless an action waits for the
/// host to consume a reply. A channel whose ring turns out corrupt is closed and opened again after
/// a ``ReopenBackoff`` delay (a one-shot timer), so a single bad descriptor does not silence a
/// service until the host happens to re-offer it.
public final class IntegrationAgent: @unchecked Sendable {
    private let source: any ChannelSource
    /// Extra descriptors to watch; set before `run()` or from the loop itself.
    public var inputs: [PollInput] = []
    /// The services channels are served for, by class GUID.
    private let services: [VMBusGUID: any AgentService]
    private let observer: AgentEventObserver?
    private let replyConsumeTimeout: Double
    private var channels: [VMBusGUID: (service: any AgentService, loop: ICChannelLoop)] = [:] {
        didSet { channelsChanged = true }
    }
    /// The loop's snapshot of `channels`, taken again only after they changed: the loop runs once
    /// per host request, and a fresh array (and poll set) per wake-up was a third of its own cost
    /// (docs/PERFORMANCE.md, "Integration services").
    private var channelList: [(key: VMBusGUID, value: (service: any AgentService, loop: ICChannelLoop))] = []
    private var channelsChanged = true
    /// The poll set, rebuilt in place every iteration (input descriptors may change).
    private var pollSet: [pollfd] = []
    private var backoff: [VMBusGUID: ReopenBackoff] = [:]
    /// Channels closed for corruption, by instance: when to open them again (monotonic µs).
    private var reopenDue: [VMBusGUID: (service: any AgentService, at: UInt64)] = [:]
    private let reopenTimer: LoopTimer
    /// Written by `stop()` from any thread to wake the loop.
    private let stopDescriptor: Int32
    private let stopLock = Mutex(())
    private var stopRequested = false

    /// - Parameters:
    ///   - services: the service table; an offer of any other class is ignored.
    ///   - replyConsumeTimeout: how long a deferred action waits for the host to consume its
    ///     reply before it runs anyway (docs/PROTOCOL.md §6.2: about 1 s).
    public init(source: any ChannelSource, services: [any AgentService], replyConsumeTimeout: Double = 1.0,
                observer: AgentEventObserver? = nil) throws {
        self.source = source
        self.services = Dictionary(services.map { ($0.id.classID, $0) }, uniquingKeysWith: { first, _ in first })
        self.replyConsumeTimeout = replyConsumeTimeout
        self.observer = observer
        reopenTimer = try LoopTimer()
        stopDescriptor = try retryingOnInterrupt("eventfd") { chv_eventfd(1) }
    }

    public convenience init(endpoint: SimGuestEndpoint, services: [any AgentService], replyConsumeTimeout: Double = 1.0,
                            observer: AgentEventObserver? = nil) throws {
        try self.init(source: SimChannelSource(endpoint: endpoint), services: services,
                      replyConsumeTimeout: replyConsumeTimeout, observer: observer)
    }

    deinit {
        close(stopDescriptor)
    }

    /// The events a service reports through.
    public func events(for service: ICServiceID) -> ServiceEvents {
        ServiceEvents(service: service, observer: observer)
    }

    /// Asks `run()` to return; safe from any thread.
    public func stop() {
        stopLock.withLock { _ in stopRequested = true }
        var one: UInt64 = 1
        _ = write(stopDescriptor, &one, 8)
    }

    private var shouldStop: Bool {
        stopLock.withLock { _ in stopRequested }
    }

    /// Runs until `stop()` or until the host goes away (returns normally in both cases).
    public func run() throws {
        while !shouldStop {
            if channelsChanged {
                channelList = Array(channels)
                channelsChanged = false
            }
            let entries = channelList
            let extra = inputs
            var fds = pollSet
            pollSet = []  // unique: the appends below reuse its storage
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: source.pollDescriptor, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: stopDescriptor, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: reopenTimer.descriptor, events: Int16(POLLIN), revents: 0))
            let fixed = fds.count
            for entry in entries {
                fds.append(pollfd(fd: entry.value.loop.channel.pollDescriptor, events: Int16(POLLIN), revents: 0))
            }
            for input in extra { fds.append(pollfd(fd: input.descriptor(), events: Int16(POLLIN), revents: 0)) }
            defer { pollSet = fds }
            // Deferred actions are waiting for the host to read our reply: look again soon.
            let waiting = entries.contains { $0.value.loop.hasPendingActions }
            _ = try retryingOnInterrupt("poll") { poll(&fds, nfds_t(fds.count), waiting ? 2 : -1) }
            if fds[0].revents != 0 {
                guard let events = try source.events() else { return }  // the host disconnected
                for event in events { try handle(event) }
            }
            if fds[2].revents != 0 {
                reopenTimer.acknowledge()
                reopenDueChannels()
            }
            for (index, entry) in entries.enumerated() where fds[index + fixed].revents != 0 {
                serve(entry.key, loop: entry.value.loop, revents: fds[index + fixed].revents)
            }
            for (index, input) in extra.enumerated() where fds[index + fixed + entries.count].revents != 0 {
                input.onReadable()
            }
            for entry in channels.values where entry.loop.hasPendingActions {
                entry.loop.runDueActions()
            }
            // Replies finished off the loop (a VSS FREEZE's ioctls) become ready on an input above.
            for (instance, entry) in channels {
                do { try entry.loop.sendLateReplies() } catch { fail(instance, error: error) }
            }
        }
    }

    /// Takes the channels the source has now (call before `run()` for sources that offer at
    /// start-up, like uio devices found in sysfs).
    public func acceptPendingChannels() throws {
        for event in try source.events() ?? [] { try handle(event) }
    }

    /// Services with an open channel now.
    public var openServices: [ICServiceID] { channels.values.map(\.service.id).sorted { $0.rawValue < $1.rawValue } }

    /// - Parameter revents: what the loop's poll said of the channel's doorbell; 0 when the
    ///   channel is served without a signal (just opened).
    ///
    /// The doorbell is consumed *after* the drain, so its system call is not between the host's
    /// request and our reply (docs/PERFORMANCE.md, "Integration services"). No wake-up is lost:
    /// once the doorbell is consumed the ring is looked at again, and anything that arrived after
    /// the drain's last look is drained now. A hang-up without data (a rescinded device) is
    /// reported before any drain, as before.
    private func serve(_ instance: VMBusGUID, loop: ICChannelLoop, revents: Int16) {
        do {
            let signalled = revents & Int16(POLLIN) != 0
            if revents != 0 && !signalled { try loop.channel.acknowledgeSignal(revents: revents) }
            try loop.drain()
            if signalled {
                try loop.channel.acknowledgeSignal(revents: revents)
                if loop.channel.hasInboundData { try loop.drain() }
            }
            if loop.hasPendingActions { loop.runDueActions() }
        } catch {
            fail(instance, error: error)
        }
    }

    /// A channel whose ring or doorbell failed: dropped, and opened again after the back-off
    /// unless it was rescinded.
    private func fail(_ instance: VMBusGUID, error: any Error) {
        guard let entry = channels.removeValue(forKey: instance) else { return }
        entry.loop.handler.channelClosed()
        let id = entry.service.id
        observer?(.channelClosed(id, reason: "\(error)"))
        if case ChannelError.rescinded = error {
            source.lost(classID: id.classID, instanceID: instance)
        } else {
            scheduleReopen(entry.service, instance: instance)
        }
    }

    /// A corrupt (or otherwise failed) channel: closed now, opened again after the back-off.
    private func scheduleReopen(_ service: any AgentService, instance: VMBusGUID) {
        source.closed(classID: service.id.classID, instanceID: instance)
        let now = Self.monotonicMicroseconds()
        let delay = backoff[service.id.classID, default: ReopenBackoff()].failed(at: now)
        reopenDue[instance] = (service, now + delay)
        observer?(.channelReopenScheduled(service.id, afterMilliseconds: Int(delay / 1000)))
        armReopenTimer(now: now)
    }

    private func reopenDueChannels() {
        let now = Self.monotonicMicroseconds()
        for (instance, due) in reopenDue where due.at <= now {
            reopenDue[instance] = nil
            let classID = due.service.id.classID
            do {
                let channel = try source.reopen(classID: classID, instanceID: instance)
                try open(due.service, instance: instance, channel: channel)
            } catch {
                observer?(.channelClosed(due.service.id, reason: "reopen failed: \(error)"))
                source.lost(classID: classID, instanceID: instance)
            }
        }
        armReopenTimer(now: now)
    }

    private func armReopenTimer(now: UInt64) {
        guard let next = reopenDue.values.map(\.at).min() else { return }
        try? reopenTimer.arm(afterMicroseconds: max(next > now ? next - now : 1, 1))
    }

    private func handle(_ event: ChannelSourceEvent) throws {
        switch event {
        case .offer(let classID, let instanceID, let channel):
            guard let service = services[classID] else {
                observer?(.offerIgnored(classID: classID))
                return
            }
            // A re-offer replaces a channel waiting for its reopen.
            reopenDue[instanceID] = nil
            try open(service, instance: instanceID, channel: channel)
        case .rescind(_, let instanceID):
            reopenDue[instanceID] = nil
            if let entry = channels.removeValue(forKey: instanceID) {
                entry.loop.handler.channelClosed()
                observer?(.channelClosed(entry.service.id, reason: "rescinded"))
            }
        case .refused(let reason):
            observer?(.offerRefused(reason: reason))
        }
    }

    private func open(_ service: any AgentService, instance: VMBusGUID, channel: VMBusChannel) throws {
        let handler = service.channelHandler(events: events(for: service.id))
        let loop = ICChannelLoop(channel: channel, handler: handler, consumeTimeout: replyConsumeTimeout)
        channels[instance] = (service, loop)
        backoff[service.id.classID, default: ReopenBackoff()].opened(at: Self.monotonicMicroseconds())
        try source.opened(classID: service.id.classID, instanceID: instance)
        observer?(.channelOpened(service.id))
        serve(instance, loop: loop, revents: 0)
    }

    private static func monotonicMicroseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000 + UInt64(spec.tv_nsec) / 1000
    }
}
