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
/// ``PollInput``s, all in one event loop (an epoll set) on the calling thread.
///
/// Nothing wakes it when idle: it sleeps in `epoll_wait` with no timeout unless an action waits
/// for the host to consume a reply. A channel whose ring turns out corrupt is closed and opened
/// again after a ``ReopenBackoff`` delay (a one-shot timer), so a single bad descriptor does not
/// silence a service until the host happens to re-offer it.
///
/// Why epoll and not poll: the loop runs once per host request, and `poll()` registers on every
/// descriptor's wait queue and unregisters again at every wake-up; a registered set does that
/// once. It is the larger part of what the loop's wait costs over the blocking read of the
/// round-trip floor (docs/PERFORMANCE.md, "Where the round trip goes"). The set's registrations
/// follow what the loop watches: the fixed descriptors at start, a channel's doorbell from its
/// open to its removal (unwatched while still open), inputs whenever `inputs` changes, and an
/// input whose descriptor may change (`PollInput.isStable` false) again before every wait.
public final class IntegrationAgent: @unchecked Sendable {
    private let source: any ChannelSource
    /// Extra descriptors to watch; set before `run()` or from the loop itself.
    @exclusivity(unchecked) public var inputs: [PollInput] = [] {
        didSet { inputsChanged = true }
    }
    /// The services channels are served for, by class GUID.
    private let services: [VMBusGUID: any AgentService]
    private let observer: AgentEventObserver?
    private let replyConsumeTimeout: Double

    /// An open channel: its service, its loop, and its slot in `slots` (which its event token names).
    private struct OpenChannel {
        let service: any AgentService
        let loop: ICChannelLoop
        let slot: Int
    }
    @exclusivity(unchecked) private var channels: [VMBusGUID: OpenChannel] = [:]
    /// The open channels by slot, for the loop: an event's token names a slot and the open it was
    /// registered for (`token`), so an event left over from a channel removed in the same wake-up
    /// never reaches a channel opened into its slot.
    @exclusivity(unchecked) private var slots: [(token: UInt64, instance: VMBusGUID, loop: ICChannelLoop)?] = []
    private var opensSoFar: UInt64 = 0
    /// Channels whose doorbell epoll refuses (EPERM: a regular file, which poll(2) would call
    /// always readable; only test trees have one, uio nodes and eventfds are waitable): served at
    /// every wake-up of the loop instead, as poll() would have served them, without waking it.
    private var unwaitable: [UInt64] = []
    // The loop's own state is `@exclusivity(unchecked)` where it is touched at every wake-up: one
    // thread runs the loop, and each dynamic check cost ~80 instructions per access.

    private let eventSet: EventSet
    @exclusivity(unchecked) private var ready = ReadyEvents()
    /// What the set holds, descriptor -> token: an input's descriptor is removed only while it is
    /// still registered for that input (a closed one may have been reused by a channel since).
    private var registered: [Int32: UInt64] = [:]
    /// The descriptor each input was last registered with (-1: none), by index in `inputs`.
    @exclusivity(unchecked) private var inputDescriptors: [Int32] = []
    @exclusivity(unchecked) private var inputsChanged = true

    private var backoff: [VMBusGUID: ReopenBackoff] = [:]
    /// Channels closed for corruption, by instance: when to open them again (monotonic µs).
    private var reopenDue: [VMBusGUID: (service: any AgentService, at: UInt64)] = [:]
    private let reopenTimer: LoopTimer
    /// Written by `stop()` from any thread to wake the loop.
    private let stopDescriptor: Int32
    private let stopRequested = Atomic<Bool>(false)

    /// Event tokens: the kind in the top two bits. A channel's carries its open's number (bits
    /// 16...61) and its slot (bits 0...15); an input's its index in `inputs`.
    private enum Token {
        static let source: UInt64 = 0
        static let stop: UInt64 = 1
        static let reopenTimer: UInt64 = 2
        static let channelKind: UInt64 = 1 << 62
        static let inputKind: UInt64 = 2 << 62
        static let kindMask: UInt64 = 3 << 62
        static func channel(open: UInt64, slot: Int) -> UInt64 {
            channelKind | (open & ((1 << 46) - 1)) << 16 | UInt64(slot)
        }
    }

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
        guard let set = EventSet() else {
            let failure = SystemCallError(call: "epoll_create1", errno: .current)
            close(stopDescriptor)
            throw failure
        }
        eventSet = set
        if source.pollDescriptor >= 0 { try watch(source.pollDescriptor, token: Token.source) }
        try watch(stopDescriptor, token: Token.stop)
        try watch(reopenTimer.descriptor, token: Token.reopenTimer)
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
        stopRequested.store(true, ordering: .releasing)
        var one: UInt64 = 1
        _ = write(stopDescriptor, &one, 8)
    }

    private var shouldStop: Bool {
        stopRequested.load(ordering: .acquiring)
    }

    /// Runs until `stop()` or until the host goes away (returns normally in both cases).
    public func run() throws {
        // Deferred actions are waiting for the host to read our reply: look again soon.
        var waiting = slots.contains { $0?.loop.hasPendingActions == true }
        while !shouldStop {
            let extra = inputs
            try registerInputs(extra)
            try eventSet.wait(into: &ready, timeoutMilliseconds: waiting ? 2 : -1)
            let count = ready.count
            // The source and the timer first: what they open or remove is settled before any
            // channel is served, as a channel event may be for a channel they just removed.
            for index in 0..<count {
                switch ready.tokens[index] {
                case Token.source:
                    guard let events = try source.events() else { return }  // the host disconnected
                    for event in events { try handle(event) }
                case Token.reopenTimer:
                    reopenTimer.acknowledge()
                    reopenDueChannels()
                default:
                    break
                }
            }
            for index in 0..<count {
                let token = ready.tokens[index]
                switch token & Token.kindMask {
                case Token.channelKind:
                    let slot = Int(token & 0xFFFF)
                    guard slot < slots.count, let entry = slots[slot], entry.token == token else { continue }
                    serve(entry.instance, loop: entry.loop, revents: Int16(truncatingIfNeeded: ready.events[index]))
                case Token.inputKind:
                    let input = Int(token & 0xFFFF)
                    if input < extra.count { extra[input].onReadable() }
                default:
                    break
                }
            }
            for token in unwaitable {
                let slot = Int(token & 0xFFFF)
                guard slot < slots.count, let entry = slots[slot], entry.token == token else { continue }
                serve(entry.instance, loop: entry.loop, revents: Int16(POLLIN))
            }
            // Per channel, in one pass: deferred actions whose reply was consumed, replies finished
            // off the loop (a VSS FREEZE's ioctls become ready on an input above), and whether an
            // action still waits, which bounds the next wait.
            waiting = false
            for index in slots.indices {
                guard let entry = slots[index] else { continue }
                if entry.loop.hasPendingActions { entry.loop.runDueActions() }
                do {
                    try entry.loop.sendLateReplies()
                } catch {
                    fail(entry.instance, error: error)
                    continue
                }
                if entry.loop.hasPendingActions { waiting = true }
            }
        }
    }

    // MARK: Registrations

    private func watch(_ fd: Int32, token: UInt64) throws(SystemCallError) {
        guard eventSet.watch(fd, token: token) else { throw SystemCallError(call: "epoll_ctl", errno: .current) }
        registered[fd] = token
    }

    /// Removes `fd` only if it is still registered with `token`.
    private func unwatch(_ fd: Int32, token: UInt64) {
        guard fd >= 0, registered[fd] == token else { return }
        eventSet.unwatch(fd)
        registered[fd] = nil
    }

    /// Brings the inputs' registrations up to date: all of them after `inputs` changed; a
    /// changeable descriptor (a device reopened after an error, which may well get the same
    /// number) again every time, since its old registration went with its old file.
    private func registerInputs(_ extra: [PollInput]) throws {
        if inputsChanged {
            inputsChanged = false
            for (index, fd) in inputDescriptors.enumerated() { unwatch(fd, token: Token.inputKind | UInt64(index)) }
            inputDescriptors = Array(repeating: -1, count: extra.count)
            for (index, input) in extra.enumerated() { try register(input, index: index) }
            return
        }
        for (index, input) in extra.enumerated() where !input.isStable { try register(input, index: index) }
    }

    private func register(_ input: PollInput, index: Int) throws {
        let token = Token.inputKind | UInt64(index)
        let fd = input.descriptor()
        if inputDescriptors[index] != fd { unwatch(inputDescriptors[index], token: token) }
        inputDescriptors[index] = -1
        guard fd >= 0 else { return }
        try watch(fd, token: token)
        inputDescriptors[index] = fd
    }

    /// Takes the channels the source has now (call before `run()` for sources that offer at
    /// start-up, like uio devices found in sysfs).
    public func acceptPendingChannels() throws {
        for event in try source.events() ?? [] { try handle(event) }
    }

    /// Services with an open channel now.
    public var openServices: [ICServiceID] { channels.values.map(\.service.id).sorted { $0.rawValue < $1.rawValue } }

    /// - Parameter revents: what the loop's wait said of the channel's doorbell; 0 when the
    ///   channel is served without a signal (just opened).
    ///
    /// The doorbell is registered edge-triggered: every signal of the host wakes the loop once,
    /// whether or not the doorbell was read since, so it is never read at all — one system call
    /// less per request than consuming it (docs/PERFORMANCE.md, "Where the round trip goes"). No
    /// wake-up is lost: a signal that comes while we drain is a new edge, and the next wait
    /// returns at once for it. An error or hang-up (a rescinded uio device) is looked at before
    /// any drain (`VMBusChannel.checkHangUp`), and fails the channel as rescinded.
    private func serve(_ instance: VMBusGUID, loop: ICChannelLoop, revents: Int16) {
        do {
            try loop.channel.checkHangUp(revents: revents)
            try loop.drain()
            if loop.hasPendingActions { loop.runDueActions() }
        } catch {
            fail(instance, error: error)
        }
    }

    /// A channel whose ring or doorbell failed: dropped, and opened again after the back-off
    /// unless it was rescinded.
    private func fail(_ instance: VMBusGUID, error: any Error) {
        guard let entry = removeChannel(instance) else { return }
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
            if let entry = removeChannel(instanceID) {
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
        if let replaced = removeChannel(instance) { replaced.loop.handler.channelClosed() }
        let slot = slots.firstIndex { $0 == nil } ?? slots.endIndex
        guard slot <= 0xFFFF else { throw ChannelError.invalidConfiguration("more than 65,536 channels") }
        opensSoFar &+= 1
        let token = Token.channel(open: opensSoFar, slot: slot)
        if eventSet.watch(channel.pollDescriptor, token: token, edgeTriggered: true) {
            registered[channel.pollDescriptor] = token
        } else {
            let failure = Errno.current
            guard failure == Errno(rawValue: EPERM) else { throw SystemCallError(call: "epoll_ctl", errno: failure) }
            unwaitable.append(token)
            observer?(.actionFailed(service.id, error: "its doorbell cannot be waited on (\(failure)): served only when the loop wakes for another reason"))
        }
        if slot == slots.endIndex { slots.append(nil) }
        slots[slot] = (token, instance, loop)
        channels[instance] = OpenChannel(service: service, loop: loop, slot: slot)
        backoff[service.id.classID, default: ReopenBackoff()].opened(at: Self.monotonicMicroseconds())
        try source.opened(classID: service.id.classID, instanceID: instance)
        observer?(.channelOpened(service.id))
        serve(instance, loop: loop, revents: 0)
    }

    /// Takes `instance` out of the loop: its doorbell unwatched while its descriptor is still
    /// open (the channel closes it when the loop lets go of it), its slot free.
    private func removeChannel(_ instance: VMBusGUID) -> OpenChannel? {
        guard let entry = channels.removeValue(forKey: instance) else { return nil }
        if let slot = slots[entry.slot] {
            unwatch(slot.loop.channel.pollDescriptor, token: slot.token)
            unwaitable.removeAll { $0 == slot.token }
            slots[entry.slot] = nil
        }
        return entry
    }

    private static func monotonicMicroseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000 + UInt64(spec.tv_nsec) / 1000
    }
}
