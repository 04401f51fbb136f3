import AgentCore
import FileCopy
import Heartbeat
import Foundation
import HostSimulator
import ICFramework
import KVPAgent
import ShutdownSvc
import SimTransport
import Timesync
import VSS

/// Records shutdown actions instead of performing them.
public final class RecordingPerformer: ShutdownPerformer, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [ShutdownRequest] = []
    public var requests: [ShutdownRequest] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
    public func perform(_ request: ShutdownRequest) throws {
        lock.lock()
        stored.append(request)
        lock.unlock()
    }
}

/// Collects agent events from the agent thread.
public final class EventRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [AgentEvent] = []
    public var events: [AgentEvent] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
    public func record(_ event: AgentEvent) {
        lock.lock()
        stored.append(event)
        lock.unlock()
    }

    private var failure: String?
    /// Why the agent's run loop threw, if it did.
    public var runFailure: String? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }
    public func runFailed(_ error: String) {
        lock.lock()
        failure = error
        lock.unlock()
    }
}

/// A simulated host and the agent on its own thread, connected by an in-process socket pair.
public final class SimHarness {
    public let host: SimulatedHyperVHost
    public let agent: IntegrationAgent
    public let performer = RecordingPerformer()
    public let recorder = EventRecorder()
    public let clock: any GuestClock
    private let finished = DispatchSemaphore(value: 0)

    public init(configure: (inout SimHostConfiguration) -> Void = { _ in }, clock: (any GuestClock)? = nil,
         hibernation: any HibernationSupport = NoHibernation(), timesyncMode: TimesyncMode = .discipline,
         chrony: ChronySocketSender? = nil, kvpEngine: KVPEngine? = nil, fileCopy: FileCopyPolicy? = nil,
         vss: VSSAgentService? = nil) throws {
        let (hostSocket, agentSocket) = try SimSocket.pair()
        var configuration = SimHostConfiguration()
        configuration.heartbeatInterval = 0.05
        configuration.timesyncInterval = 0.05
        configure(&configuration)
        self.clock = clock ?? SimulatedClock(source: configuration.timeSource, initialOffsetNanoseconds: -3_000_000_000)
        host = SimulatedHyperVHost(endpoint: SimHostEndpoint(socket: hostSocket), configuration: configuration)
        let recorder = self.recorder
        let services = AgentTestServices.make(performer: performer, hibernation: hibernation, timesyncMode: timesyncMode,
                                              clock: self.clock, chrony: chrony, kvpEngine: kvpEngine, fileCopy: fileCopy, vss: vss)
        agent = try IntegrationAgent(endpoint: SimGuestEndpoint(socket: agentSocket), services: services,
                                     observer: { recorder.record($0) })
        let agent = self.agent
        // What services watch besides their channels (VSS freeze work and watchdog, a KVP SET_IP_INFO finishing), as the daemon does.
        for service in services { agent.inputs += service.inputs(events: agent.events(for: service.id)) }
        let finished = self.finished
        Thread {
            do { try agent.run() } catch { recorder.runFailed("\(error)") }
            finished.signal()
        }.start()
    }

    public func stop() {
        agent.stop()
        finished.wait()
    }

    /// Offers everything and waits until heartbeat, shutdown and timesync negotiated.
    public func start() throws -> Bool {
        try host.offerAll()
        return try host.run(timeout: 10) {
            [.heartbeat, .shutdown, .timesync].allSatisfy { host.negotiationCount[$0, default: 0] + host.negotiationFailures[$0, default: 0] > 0 }
        }
    }
}
