import DaemonSupport
import Dispatch
import HVProtocol
import HVSystem
import IPInjection
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `hvagent ip-helper`'s server and the agent's client over a real SOCK_SEQPACKET socket in a
/// temporary directory, with an injector that records what it is asked: nothing is configured.
@Suite struct IPHelperTests {
    /// Answers `outcome` after `delay`, recording each request.
    final class RecordingInjector: IPInjecting {
        let outcome: IPInjector.Outcome
        let delay: Duration
        let requests = Mutex<[HostIPSettings]>([])

        init(_ outcome: IPInjector.Outcome, delay: Duration = .zero) {
            self.outcome = outcome
            self.delay = delay
        }

        func set(_ settings: HostIPSettings) -> IPInjector.Outcome {
            requests.withLock { $0.append(settings) }
            let parts = delay.components
            usleep(UInt32(parts.seconds * 1_000_000 + parts.attoseconds / 1_000_000_000_000))
            return outcome
        }

        var received: [HostIPSettings] { requests.withLock { $0 } }
    }

    static let settings = IPHelperMessageTests.settings

    @Test func theOutcomeComesBackAsTheInjectorGaveIt() throws {
        let injector = RecordingInjector(.init(status: .guidNotFound, message: "SET_IP_INFO for x answered HV_GUID_NOTFOUND: é"))
        let helper = try RunningIPHelper(injector: injector)
        defer { helper.stop() }
        let client = IPHelperClient(socketPath: helper.socketPath, replyTimeout: .seconds(5))
        #expect(client.set(Self.settings) == injector.outcome)
        #expect(client.set(Self.settings).status == .guidNotFound)
        #expect(injector.received == [Self.settings, Self.settings])
    }

    @Test func aPeerOutsideTheAgentsUnitIsRefusedAndNothingIsApplied() throws {
        let injector = RecordingInjector(.init(status: .ok, message: "applied"))
        let helper = try RunningIPHelper(injector: injector, peerUnit: "no-such-unit.service")
        defer { helper.stop() }
        let outcome = IPHelperClient(socketPath: helper.socketPath, replyTimeout: .seconds(5)).set(Self.settings)
        #expect(outcome.status == .fail)
        #expect(outcome.message.contains("refused this process"))
        #expect(outcome.message.contains("is not in no-such-unit.service"))
        #expect(injector.received.isEmpty)
        #expect(helper.log.lines.contains { $0.hasPrefix("refused a connection: peer pid") })
    }

    @Test func aMalformedRequestIsAnsweredWithAnError() throws {
        let injector = RecordingInjector(.init(status: .ok, message: "applied"))
        let helper = try RunningIPHelper(injector: injector)
        defer { helper.stop() }
        let good = try #require(IPHelperRequest(Self.settings).encoded)
        for request in [[], [1, 0, 0, 0], Array(good.dropLast()), good + [0], [UInt8](repeating: 0xFF, count: 20_000)] {
            let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
            defer { close(fd) }
            #expect(try UnixSocketAddress(path: helper.socketPath).connect(fd) == 0)
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            var reply = [UInt8](repeating: 0, count: IPHelperReply.maximumSize)
            let count = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if request.isEmpty {
                // An empty packet reads as the end of the connection: closed without an answer.
                #expect(count == 0)
                continue
            }
            let outcome = try #require(IPHelperReply(Array(reply[..<max(0, count)]))?.outcome, "\(request.count) bytes")
            #expect(outcome.status == .fail)
            #expect(outcome.message.contains("malformed request"))
        }
        #expect(injector.received.isEmpty)
        // The helper still serves a good request afterwards.
        #expect(IPHelperClient(socketPath: helper.socketPath, replyTimeout: .seconds(5)).set(Self.settings).status == .ok)
    }

    @Test func aHelperThatNeverAnswersIsHVEFailWithinTheClientsTimeout() throws {
        // A socket that listens but is never served: the connection and the request are queued.
        let directory = TempDir()
        let path = directory.path + "/ip.sock"
        let listener = try HelperSocket.bind(path: path)
        defer { close(listener) }
        let clock = ContinuousClock(), start = clock.now
        let outcome = IPHelperClient(socketPath: path, replyTimeout: .milliseconds(300)).set(Self.settings)
        #expect(clock.now - start < .seconds(3))
        #expect(outcome.status == .fail)
        #expect(outcome.message.contains("the IP helper at \(path) did not answer within"))
    }

    @Test func aHelperThatGoesAwayWithoutAnsweringIsHVEFail() throws {
        let directory = TempDir()
        let path = directory.path + "/ip.sock"
        let listener = try HelperSocket.bind(path: path)
        // The listener closes with the connection still queued: the client's wait ends in a reset.
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { close(listener) }
        let outcome = IPHelperClient(socketPath: path, replyTimeout: .seconds(10)).set(Self.settings)
        #expect(outcome.status == .fail)
        #expect(outcome.message.contains("the IP helper at \(path) gave no answer (it may have applied the change)"))
    }

    @Test func anAbsentHelperIsHVEFailNamingTheSocket() {
        let directory = TempDir()
        let path = directory.path + "/absent.sock"
        let outcome = IPHelperClient(socketPath: path).set(Self.settings)
        #expect(outcome.status == .fail)
        #expect(outcome.message == "SET_IP_INFO for \(Self.settings.adapterID) answered HV_E_FAIL: the IP helper at \(path) is unreachable: "
                + "connect \(path): No such file or directory")
    }

    @Test func aRequestTooLongForTheWireIsNotSent() {
        let outcome = IPHelperClient(socketPath: "/nonexistent/ip.sock")
            .set(HostIPSettings(adapterID: String(repeating: "a", count: 400)))
        #expect(outcome.status == .invalidArgument)
    }

    @Test func theHelperExitsWhenIdle() throws {
        let injector = RecordingInjector(.init(status: .ok, message: "applied"))
        let helper = try RunningIPHelper(injector: injector, idleExitSeconds: 1)
        defer { helper.stop() }
        #expect(IPHelperClient(socketPath: helper.socketPath, replyTimeout: .seconds(5)).set(Self.settings).status == .ok)
        let clock = ContinuousClock(), start = clock.now
        while !helper.finished && clock.now - start < .seconds(5) { usleep(20_000) }
        #expect(helper.finished)
        #expect(clock.now - start < .seconds(3))
    }
}
