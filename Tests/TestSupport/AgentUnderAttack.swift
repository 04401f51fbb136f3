import AgentCore
import Foundation
import HostSimulator
import ICFramework
import RingTransport
import SimTransport
import Testing
import Timesync
import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The agent on its own thread against a simulated host that turns malicious on ONE channel
/// (``HostileChannel``) while heartbeat and timesync keep their honest host logic. Records the
/// agent thread's CPU clock, so a test can tell a busy loop from a sleeping agent.
public final class AgentUnderAttack {
    public let host: SimulatedHyperVHost
    public let agent: IntegrationAgent
    public let performer = RecordingPerformer()
    public let recorder = EventRecorder()
    private let finished = DispatchSemaphore(value: 0)
    private let threadClock = ThreadClockBox()

    public init() throws {
        let (hostSocket, agentSocket) = try SimSocket.pair()
        var configuration = SimHostConfiguration()
        configuration.services = [.heartbeat, .shutdown, .timesync]
        configuration.heartbeatInterval = 0.05
        configuration.timesyncInterval = 0.05
        host = SimulatedHyperVHost(endpoint: SimHostEndpoint(socket: hostSocket), configuration: configuration)
        let recorder = self.recorder
        agent = try IntegrationAgent(
            endpoint: SimGuestEndpoint(socket: agentSocket),
            services: AgentTestServices.make(
                performer: performer, clock: SimulatedClock(source: configuration.timeSource, initialOffsetNanoseconds: 0)),
            observer: { recorder.record($0) })
        let agent = self.agent
        let finished = self.finished
        let threadClock = self.threadClock
        let started = DispatchSemaphore(value: 0)
        Thread {
            var clock = clockid_t()
            _ = pthread_getcpuclockid(pthread_self(), &clock)
            threadClock.set(clock)
            started.signal()
            do { try agent.run() } catch { recorder.runFailed("\(error)") }
            threadClock.finished()
            finished.signal()
        }.start()
        started.wait()
        try host.offerAll()
        guard try host.run(timeout: 10, until: {
            [.heartbeat, .shutdown, .timesync].allSatisfy { self.host.negotiationCount[$0, default: 0] > 0 }
        }) else { throw HarnessError.notNegotiated }
    }

    public enum HarnessError: Error { case notNegotiated }

    public func stop() {
        agent.stop()
        finished.wait()
    }

    /// Whether the agent's run loop is still running (it returns or throws only on stop, on host
    /// disconnect, or on an error it could not contain).
    public var agentAlive: Bool { !threadClock.hasFinished }

    /// CPU time the agent thread has used, nanoseconds.
    public var agentCPUNanoseconds: Int64 {
        var spec = timespec()
        guard let clock = threadClock.clock, clock_gettime(clock, &spec) == 0 else { return 0 }
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    /// Events about `service`'s packets.
    public func packetEvents(_ service: String) -> [ICEvent] {
        recorder.events.compactMap { if case .packet(let id, let event) = $0, id.rawValue == service { event } else { nil } }
    }

    /// Why `service`'s channel was closed, if it was.
    public func closeReason(_ service: String) -> String? {
        recorder.events.lazy.compactMap { if case .channelClosed(let id, let reason) = $0, id.rawValue == service { reason } else { nil } }.first
    }

    /// Pumps the honest host for `seconds` and checks that heartbeats (or timesync, when the
    /// heartbeat channel is the victim) keep being answered while the agent thread stays nearly
    /// idle: 24 exchanges in 0.5 s cost well under a millisecond each; a busy loop would use ~0.5 s.
    public func expectStillServing(seconds: Double = 0.5, witness: ICServiceID = .heartbeat,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let served = { witness == .heartbeat ? self.host.heartbeatsOK : self.host.timesyncReplies }
        let before = served()
        let cpuBefore = agentCPUNanoseconds
        try host.run(timeout: seconds)
        let cpu = agentCPUNanoseconds - cpuBefore
        #expect(agentAlive, "agent loop ended", sourceLocation: sourceLocation)
        #expect(served() - before >= 3, "\(witness) stopped being served: \(served() - before) in \(seconds) s",
                sourceLocation: sourceLocation)
        #expect(cpu < 100_000_000, "agent thread used \(cpu / 1_000_000) ms of CPU in \(seconds) s", sourceLocation: sourceLocation)
    }

    /// Pumps until `condition` or 3 s; the condition is usually about agent events.
    @discardableResult
    public func wait(_ condition: () -> Bool) throws -> Bool {
        try host.run(timeout: 3, until: condition)
    }
}

/// The agent thread's CPU clock, set from that thread.
public final class ThreadClockBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: clockid_t?
    private var done = false
    public var clock: clockid_t? { lock.lock(); defer { lock.unlock() }; return stored }
    public var hasFinished: Bool { lock.lock(); defer { lock.unlock() }; return done }
    public func set(_ clock: clockid_t) { lock.lock(); stored = clock; lock.unlock() }
    public func finished() { lock.lock(); done = true; lock.unlock() }
}
