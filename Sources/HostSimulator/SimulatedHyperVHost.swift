import FoundationEssentials
import HVProtocol
import HVSystem
import RingTransport
import SimTransport
#if canImport(Glibc)
import Glibc
#endif

/// The simulated Hyper-V host: offers IC channels over `SimHostEndpoint`, negotiates, and runs
/// the host side of heartbeat, timesync, shutdown and KVP. Single-threaded and scriptable: tests
/// call its methods and `pump`/`run(until:)` from one thread while the agent runs elsewhere.
///
/// It links none of the guest's modules: every message is built and checked by its own codecs
/// (`HostICFrame`, `HostNegotiation`, the `*HostLogic` types), so a layout mistake on one side
/// shows as a failed exchange instead of matching itself.
///
/// Opens and re-opens: the host talks on a channel from the agent's `opened` report until its
/// `closed` report or a ring error. Another `opened` for the same offer is a re-open: the host
/// builds a fresh end over the same rings (`VMBusChannel.reopened()`), forgets everything
/// per-open (negotiated versions, the outstanding transaction, timers, timesync's SYNC) and starts
/// over with a NEGOTIATE, as a Hyper-V host does after every OPENCHANNEL. The heartbeat sequence
/// continues across re-opens and restarts at 1 only with a new offer: within one offer every
/// number is then used once, so a reply from before a re-open can never pass for a later one.
public final class SimulatedHyperVHost {
    /// A class: the loop reads and updates these once or more per message, and as a struct every
    /// read through `channels[kind]` copied all of it (the offer's lists, the time source
    /// existential), which made the simulated host most of `ic-bench`'s measured round trip
    /// (docs/PERFORMANCE.md, "Integration services").
    final class HostChannel {
        var machine: HostICChannel
        /// The host end of the offered rings, kept across the agent's closes so it can reopen;
        /// nil once a test took it over (HostileActions.swift).
        var channel: VMBusChannel? {
            didSet { registrations.stale = true }
        }
        /// Whether the loop reads and writes `channel`: from the agent's open to its close or a
        /// ring error.
        var live = false {
            didSet { if live != oldValue { registrations.stale = true } }
        }
        /// Told when `channel` or `live` change: the loop's event set is built again.
        let registrations: Registrations
        /// Opens the agent reported since the offer; from 2 on they are re-opens.
        var opens = 0
        var nextDue: ContinuousClock.Instant?
        var heartbeat: HeartbeatHostLogic
        var timesync: TimesyncHostLogic
        var sentAt: UInt64 = 0

        init(machine: HostICChannel, channel: VMBusChannel?, nextDue: ContinuousClock.Instant?,
             heartbeat: HeartbeatHostLogic, timesync: TimesyncHostLogic, registrations: Registrations) {
            self.registrations = registrations
            self.machine = machine
            self.channel = channel
            self.nextDue = nextDue
            self.heartbeat = heartbeat
            self.timesync = timesync
        }
    }

    /// Whether the loop's event set still matches the live channels. The loop waits on an epoll
    /// set (``EventSet``) rather than a fresh `poll()` set per wake-up: its wait is half of every
    /// round trip `ic-bench` measures (docs/PERFORMANCE.md, "Where the round trip goes"). The set
    /// is made again, whole, after any change: a channel end given to a test (HostileActions) or
    /// replaced at a re-open must not stay in it.
    final class Registrations {
        var stale = true
    }
    private let registrations = Registrations()
    // The loop's state is `@exclusivity(unchecked)` where the round trip touches it: the host is
    // driven from one thread (see above), and each dynamic check cost ~80 instructions.
    @exclusivity(unchecked) private var eventSet: EventSet?
    /// The channels in `eventSet`: the token of `watched[i]` is i + 1 (0 is the control socket).
    @exclusivity(unchecked) private var watched: [(kind: ICServiceID, state: HostChannel, channel: VMBusChannel)] = []
    @exclusivity(unchecked) private var ready = ReadyEvents()

    public let endpoint: SimHostEndpoint
    public let log: ExchangeLog
    public var configuration: SimHostConfiguration
    @exclusivity(unchecked) var channels: [ICServiceID: HostChannel] = [:]  // internal: HostileActions.swift reaches the raw channel

    public private(set) var negotiated: [ICServiceID: NegotiatedVersions] = [:]
    public private(set) var negotiationCount: [ICServiceID: Int] = [:]
    public private(set) var negotiationFailures: [ICServiceID: Int] = [:]
    /// Re-opens served per service (the agent's `opened` after the first, same offer).
    public private(set) var reopenCount: [ICServiceID: Int] = [:]
    @exclusivity(unchecked) public private(set) var heartbeatsOK = 0
    public private(set) var heartbeatFailures: [String] = []
    /// Heartbeat round trips, nanoseconds: from just before the request's ring write to the reply
    /// read out of the ring (its checks come after), so the host's own bookkeeping on either side
    /// is not counted (docs/PERFORMANCE.md, "Integration services").
    @exclusivity(unchecked) public private(set) var heartbeatRoundTrips: [UInt64] = []
    public private(set) var timesyncReplies = 0
    public private(set) var shutdownStatuses: [HResult] = []
    public private(set) var protocolErrors: [String] = []
    public private(set) var agentConnected = true
    /// The last KVP reply not yet taken by the KVP API (SimulatedHyperVHost+KVP.swift).
    var kvpReply: (header: ICMessageHeader, body: [UInt8])?
    /// The last file-copy reply not yet taken (SimulatedHyperVHost+FileCopy.swift).
    var fcopyReply: (header: ICMessageHeader, body: [UInt8])?
    /// The last VSS reply not yet taken (SimulatedHyperVHost+VSS.swift).
    var vssReply: (header: ICMessageHeader, body: [UInt8])?

    public init(endpoint: SimHostEndpoint, configuration: SimHostConfiguration = SimHostConfiguration(), log: ExchangeLog = ExchangeLog()) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.log = log
    }

    // MARK: Control plane

    public func offerAll() throws {
        for kind in configuration.services { try offer(kind) }
    }

    /// Offers (or re-offers) `kind`; the host talks once the agent reports it opened the channel.
    public func offer(_ kind: ICServiceID) throws {
        let channel = try endpoint.offer(classID: kind.classID, instanceID: kind.instanceID, ringSize: configuration.ringSize)
        channels[kind]?.live = false  // a re-offer: the old end is out of the loop
        channels[kind] = HostChannel(
            machine: HostICChannel(kind: kind, offer: configuration.offer(for: kind)), channel: channel, nextDue: nil,
            heartbeat: HeartbeatHostLogic(bodySize: configuration.heartbeatBodySize),
            timesync: TimesyncHostLogic(
                source: configuration.timeSource, referenceOffsetTicks: configuration.referenceOffsetTicks,
                hostClockOffsetNanoseconds: configuration.hostClockOffsetNanoseconds),
            registrations: registrations)
        log.record(channel: kind.rawValue, event: "offer", detail: "class \(kind.classID), ring \(configuration.ringSize) bytes")
    }

    public func rescind(_ kind: ICServiceID) throws {
        try endpoint.rescind(classID: kind.classID, instanceID: kind.instanceID)
        channels[kind]?.live = false
        channels[kind] = nil
        negotiated[kind] = nil
        log.record(channel: kind.rawValue, event: "rescind", detail: "channel withdrawn")
    }

    /// Whether `kind` negotiated and has no outstanding transaction.
    public func isReady(_ kind: ICServiceID) -> Bool {
        channels[kind]?.machine.state == .ready
    }

    // MARK: Scripted requests

    /// Sends a shutdown request now; the status arrives in `shutdownStatuses`.
    public func requestShutdown(flags: UInt32, reason: UInt32 = ShutdownHostLogic.reasonPlanned, timeoutSeconds: UInt32 = 0,
                                message: String = "") throws {
        let body = ShutdownHostLogic.requestBody(flags: flags, reason: reason, timeoutSeconds: timeoutSeconds, message: message)
        try send(.shutdown, type: .shutdown, body: body, detail: "flags \(flags), reason 0x\(String(reason, radix: 16)), timeout \(timeoutSeconds) s")
    }

    // MARK: Loop

    /// Pumps until `condition` holds or `timeout` seconds pass; returns whether it held.
    @discardableResult
    public func run(timeout: Double, until condition: () -> Bool = { false }) throws -> Bool {
        // Monotonic: the agent may step this machine's clock (a VM test disciplines the real
        // one), and a wall-clock deadline would then expire early or never.
        // In integer nanoseconds: `Duration` arithmetic was ~750 instructions per iteration.
        let seconds = timeout.isNaN ? 0 : min(max(timeout, 0), 1e9)  // 1e9 s: "no end"
        let deadline = monotonicNanoseconds() &+ UInt64(seconds * 1e9)
        while !condition() {
            let now = monotonicNanoseconds()
            if now >= deadline || !agentConnected { return condition() }
            // Short slices: the condition may be made true by another thread (the agent).
            let left = (deadline - now + 999_999) / 1_000_000
            try pump(timeoutMilliseconds: Int32(min(left, 50)))
        }
        return true
    }

    /// One iteration: waits for the agent or the next timer (at most `timeoutMilliseconds`),
    /// then handles control messages, replies and due requests.
    public func pump(timeoutMilliseconds: Int32) throws {
        let set = try currentEventSet()
        var timeout = timeoutMilliseconds
        var due: ContinuousClock.Instant?
        for state in channels.values {
            if let next = state.nextDue, due.map({ next < $0 }) ?? true { due = next }
        }
        if let due {
            timeout = min(timeout, Int32(max(0, (ContinuousClock.now.duration(to: due).seconds * 1000).rounded(.up))))
        }
        // Interrupted: an iteration with nothing ready, the caller pumps again.
        try set.wait(into: &ready, timeoutMilliseconds: timeout)
        let count = ready.count
        for index in 0..<count where ready.tokens[index] == 0 { try controlMessage() }
        let open = watched
        for index in 0..<count where ready.tokens[index] != 0 {
            let token = Int(ready.tokens[index])
            guard token <= open.count else { continue }
            let (kind, state, channel) = open[token - 1]
            // Rescinded, re-offered, closed or failed by a control message of this same iteration
            // (each takes the state out of the loop): what the agent wrote before its close is
            // dropped at a re-open, never read as a reply.
            guard state.live, state.channel === channel else { continue }
            receive(kind, channel, revents: Int16(truncatingIfNeeded: ready.events[index]))
        }
        sendDueRequests()
    }

    /// The event set for the control socket and the live channels, made again after they changed.
    private func currentEventSet() throws -> EventSet {
        if let eventSet, !registrations.stale { return eventSet }
        guard let set = EventSet(), set.watch(endpoint.socket.descriptor, token: 0) else {
            throw SystemCallError(call: "epoll", errno: .current)
        }
        watched = channels.compactMap { entry in entry.value.live ? entry.value.channel.map { (entry.key, entry.value, $0) } : nil }
        for (index, entry) in watched.enumerated()
        where !set.watch(entry.channel.pollDescriptor, token: UInt64(index + 1), edgeTriggered: true) {
            throw SystemCallError(call: "epoll_ctl", errno: .current)
        }
        eventSet = set
        registrations.stale = false
        return set
    }

    private func controlMessage() throws {
        let message: SimControlMessage?
        do {
            message = try endpoint.nextMessage(timeoutMilliseconds: 0)
        } catch {
            agentConnected = false
            log.record(channel: "host", event: "error", detail: "agent disconnected")
            return
        }
        guard let message, let kind = ICServiceID(classID: message.classID), channels[kind] != nil else { return }
        switch message.kind {
        case .opened:
            agentOpened(kind)
        case .closed:
            stopUsing(kind)
            log.record(channel: kind.rawValue, event: "close", detail: "agent closed the channel")
        default:
            break
        }
    }

    /// The agent opened `kind`'s channel: the first time on the end made at the offer, later on a
    /// fresh end over the same rings. Either way the host starts over with a NEGOTIATE.
    private func agentOpened(_ kind: ICServiceID) {
        guard let state = channels[kind] else { return }
        guard let end = state.channel else {
            log.record(channel: kind.rawValue, event: "open", detail: "agent opened the channel; a malicious host holds it")
            return
        }
        state.opens += 1
        if state.opens == 1 {
            log.record(channel: kind.rawValue, event: "open", detail: "agent opened the channel")
        } else {
            do {
                state.channel = try end.reopened()
            } catch {
                state.live = false
                channels[kind] = state
                protocolErrors.append("\(kind.rawValue): reopen: \(error)")
                log.record(channel: kind.rawValue, event: "error", detail: "reopen failed: \(error)")
                return
            }
            reopenCount[kind, default: 0] += 1
            log.record(channel: kind.rawValue, event: "open",
                       detail: "agent reopened the channel (open \(state.opens)): fresh host end, negotiating again")
        }
        state.live = true
        state.nextDue = nil
        state.heartbeat.abandonOutstanding()
        state.timesync.reset()
        if kind == .kvp { kvpReply = nil }
        if kind == .fcopy { fcopyReply = nil }
        negotiated[kind] = nil
        let request = state.machine.negotiateRequest()
        channels[kind] = state
        let offer = state.machine.offer
        transmit(kind, request, type: .negotiate,
                 detail: "framework \(offer.frameworkVersions.map(\.description).joined(separator: ",")) service \(offer.serviceVersions.map(\.description).joined(separator: ","))")
    }

    /// Stops talking on `kind`'s channel (the agent closed it, or its ring failed) but keeps the
    /// end for a re-open. Nothing of this open survives but the heartbeat numbering.
    private func stopUsing(_ kind: ICServiceID) {
        guard let state = channels[kind] else { return }
        state.live = false
        state.machine.close()
        state.nextDue = nil
        state.heartbeat.abandonOutstanding()
        channels[kind] = state
        negotiated[kind] = nil
        if kind == .kvp { kvpReply = nil }
        if kind == .fcopy { fcopyReply = nil }
    }

    /// Reads the agent's replies. The doorbell is edge-triggered in the loop's set and never read,
    /// as in the agent (IntegrationAgent.serve): no host system call between the guest's signal
    /// and the reply's time stamp but the wait.
    private func receive(_ kind: ICServiceID, _ channel: VMBusChannel, revents: Int16) {
        do {
            try channel.checkHangUp(revents: revents)
            repeat {
                try channel.receiveBatch { _, payload in
                    // The end of a measured round trip: the reply is out of the ring (in the
                    // channel's private copy); the host's own copy and checks come after.
                    let receivedAt = self.monotonicNanoseconds()
                    self.reply(kind, Array(payload), receivedAt: receivedAt)
                }
            } while try channel.finishBatch()
        } catch {
            protocolErrors.append("\(kind.rawValue): \(error)")
            log.record(channel: kind.rawValue, event: "error", detail: "\(error)")
            // The end is failed for good; the agent may still reopen the channel on a fresh one.
            if channels[kind]?.channel === channel { stopUsing(kind) }
        }
    }

    private func reply(_ kind: ICServiceID, _ payload: [UInt8], receivedAt: UInt64) {
        guard let state = channels[kind] else { return }
        let now = ContinuousClock.now
        switch state.machine.accept(payload) {
        case .negotiated(let versions):
            negotiated[kind] = versions
            negotiationCount[kind, default: 0] += 1
            state.timesync.reset()
            state.nextDue = kind == .heartbeat || kind == .timesync ? now : nil
            log.record(channel: kind.rawValue, event: "reply", type: "negotiate", status: "S_OK", detail: versions.description)
        case .negotiationFailed(let reason):
            negotiated[kind] = nil
            negotiationFailures[kind, default: 0] += 1
            log.record(channel: kind.rawValue, event: "reply", type: "negotiate", status: "no match", detail: reason)
        case .stale(let type):
            log.record(channel: kind.rawValue, event: "reply", type: type.description, detail: "stale reply skipped")
        case .protocolError(let text):
            protocolErrors.append("\(kind.rawValue): \(text)")
            log.record(channel: kind.rawValue, event: "error", detail: text)
        case .response(let header, let body):
            response(kind, state, header: header, body: body, now: now, receivedAt: receivedAt)
        }
    }

    private func response(_ kind: ICServiceID, _ state: HostChannel, header: ICMessageHeader, body: [UInt8],
                          now: ContinuousClock.Instant, receivedAt: UInt64) {
        switch kind {
        case .heartbeat:
            heartbeatRoundTrips.append(receivedAt &- state.sentAt)
            switch state.heartbeat.check(status: header.status, body: body) {
            case .ok(let sequence, let applicationState):
                heartbeatsOK += 1
                var detail = "seq \(sequence) -> \(sequence &+ 1)"
                // The request carries 0 (unknown); anything else is what the guest's health probe said.
                if let state = applicationState, state != 0 {
                    detail += ", application state " + HeartbeatHostLogic.applicationStateName(state)
                }
                log.record(channel: "heartbeat", event: "reply", type: "heartbeat", status: header.status.logText, detail: detail)
            case let failure:
                heartbeatFailures.append("\(failure)")
                log.record(channel: "heartbeat", event: "error", type: "heartbeat", status: header.status.logText, detail: "\(failure)")
            }
            state.nextDue = now.advanced(by: .seconds(configuration.heartbeatInterval))
        case .timesync:
            timesyncReplies += 1
            log.record(channel: "timesync", event: "reply", type: "timesync", status: header.status.logText, detail: "sample acknowledged")
            state.nextDue = now.advanced(by: .seconds(configuration.timesyncInterval))
        case .shutdown:
            shutdownStatuses.append(header.status)
            log.record(channel: "shutdown", event: "reply", type: "shutdown", status: header.status.logText, detail: "guest answered")
        case .kvp:
            kvpReply = (header, body)
            log.record(channel: "kvp", event: "reply", type: header.messageType.description, status: header.status.logText,
                       detail: KVPHostLogic.describe(reply: body, status: header.status))
        case .fcopy:
            fcopyReply = (header, body)
        case .vss:
            vssReply = (header, body)
            log.record(channel: "vss", event: "reply", type: "vss", status: header.status.logText,
                       detail: VSSHostLogic.describe(reply: body))
        }
    }

    private func sendDueRequests() {
        let now = ContinuousClock.now
        for (kind, state) in channels {
            guard state.live, let due = state.nextDue, due <= now, state.machine.state == .ready else { continue }
            channels[kind]?.nextDue = nil
            do {
                switch kind {
                case .heartbeat:
                    var logic = state.heartbeat
                    let body = logic.requestBody()
                    channels[kind]?.heartbeat = logic
                    try send(kind, type: .heartbeat, body: body, detail: "seq \(logic.outstanding ?? 0)")
                case .timesync:
                    guard let version = state.machine.negotiated?.service else { continue }
                    var logic = state.timesync
                    let message = logic.nextMessage(version: version)
                    channels[kind]?.timesync = logic
                    let flag = message.flags == .sync ? "SYNC" : "SAMPLE"
                    try send(kind, type: .timesync, body: message.body(version: version),
                             detail: "\(flag) v\(version) host time \(WindowsTime.unixNanoseconds(fromTicks: message.parentTime) ?? 0) ns")
                default:
                    break
                }
            } catch {
                protocolErrors.append("\(kind.rawValue): \(error)")
            }
        }
    }

    func send(_ kind: ICServiceID, type: ICMessageType, body: [UInt8], detail: String, logged: Bool = true) throws {
        guard let state = channels[kind] else { throw HostChannelError.notReady }
        let request = try state.machine.request(type: type, body: body)
        channels[kind]?.machine = state.machine
        transmit(kind, request, type: type, detail: detail, logged: logged)
    }

    /// Writes `bytes` to `kind`'s channel and signals, and notes the time just before the ring
    /// write in `sentAt` (the start of the round trip `heartbeatRoundTrips` measures). Nothing
    /// of the host's own follows the signal but that store: on one CPU, whatever the host does
    /// between its signal and its next wait delays the guest's answer and would be counted in it
    /// (docs/PERFORMANCE.md, "Where the round trip goes"), so the request is logged before.
    private func transmit(_ kind: ICServiceID, _ bytes: [UInt8], type: ICMessageType, detail: String, logged: Bool = true) {
        guard let state = channels[kind], state.live, let channel = state.channel else { return }
        if logged { log.record(channel: kind.rawValue, event: "request", type: type.description, detail: detail) }
        let sentAt = monotonicNanoseconds()
        do {
            try channel.send(bytes)
            try channel.flush()
            state.sentAt = sentAt
        } catch {
            protocolErrors.append("\(kind.rawValue): \(error)")
            log.record(channel: kind.rawValue, event: "error", detail: "send failed: \(error)")
        }
    }

    private func monotonicNanoseconds() -> UInt64 {
        UInt64(max(0, SystemTimeSource.read(CLOCK_MONOTONIC)))
    }
}
