// ic-bench: heartbeat round trip through the simulated host next to an eventfd ping-pong
// floor measured in the same run, and the timesync residual after 10 minutes of simulated
// time with 100 ppm drift and heavy-tailed latency. Results go to docs/PERFORMANCE.md.
import AgentCore
import CHVSupport
import Foundation
import HostSimulator
import HVSystem
import ICFramework
import Heartbeat
import SimScenarios
import SimTransport
import Synchronization
import Timesync
import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

func nanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

func percentile(_ values: [UInt64], _ p: Double) -> Double {
    let sorted = values.sorted()
    return Double(sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]) / 1000
}

/// Two threads bouncing a token over two blocking eventfds: the wake-up floor any
/// signalled round trip pays.
func eventfdPingPong(rounds: Int) -> [UInt64] {
    let ping = chv_eventfd(0)
    let pong = chv_eventfd(0)
    defer { close(ping); close(pong) }
    let done = DispatchSemaphore(value: 0)
    Thread {
        var value: UInt64 = 0
        for _ in 0..<rounds {
            _ = read(ping, &value, 8)
            var one: UInt64 = 1
            _ = write(pong, &one, 8)
        }
        done.signal()
    }.start()
    var times: [UInt64] = []
    times.reserveCapacity(rounds)
    for _ in 0..<rounds {
        let start = nanoseconds()
        var one: UInt64 = 1
        _ = write(ping, &one, 8)
        var value: UInt64 = 0
        _ = read(pong, &value, 8)
        times.append(nanoseconds() - start)
    }
    done.wait()
    return times
}

/// The same ping-pong with the wait an event loop makes: each side sleeps in `poll()` on its
/// eventfd and `extra` idle descriptors (the agent's loop watches its source, stop and reopen
/// descriptors beside the channel), answers, then consumes its eventfd, and looks at the shared
/// counter once more before it sleeps again (what the agent and the simulated host do with a
/// ring). Not the goal's floor (that stays `eventfdPingPong`); it shows what the multi-descriptor
/// wait itself costs (docs/PERFORMANCE.md, "Integration services").
///
/// With `epoll`, each side sleeps in `epoll_wait` on a set holding the same four descriptors,
/// registered once (``EventSet``, what the agent's loop uses).
func pollLoopPingPong(rounds: Int, extra: Int = 3, epoll: Bool = false) -> [UInt64] {
    let ping = chv_eventfd(0)
    let pong = chv_eventfd(0)
    let idle = (0..<extra).map { _ in chv_eventfd(0) }
    defer { close(ping); close(pong); idle.forEach { close($0) } }
    for fd in [ping, pong] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    final class Counts: Sendable {
        let requests = Atomic<Int>(0)
        let replies = Atomic<Int>(0)
    }
    let counts = Counts()
    let sets = [ping, pong].map { fd -> EventSet? in
        guard epoll, let set = EventSet() else { return nil }
        for member in [fd] + idle { set.watch(member) }
        return set
    }
    @Sendable func wait(on fd: Int32, _ ready: inout ReadyEvents) {
        if let set = sets[fd == ping ? 0 : 1] {
            try? set.wait(into: &ready, timeoutMilliseconds: -1)
            return
        }
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        fds += idle.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        _ = poll(&fds, nfds_t(fds.count), -1)
    }
    let done = DispatchSemaphore(value: 0)
    Thread {
        var value: UInt64 = 0
        var ready = ReadyEvents(capacity: 4)
        for served in 0..<rounds {
            if counts.requests.load(ordering: .acquiring) == served { wait(on: ping, &ready) }
            counts.replies.store(served + 1, ordering: .releasing)
            var one: UInt64 = 1
            _ = write(pong, &one, 8)
            _ = read(ping, &value, 8)
        }
        done.signal()
    }.start()
    var times: [UInt64] = []
    times.reserveCapacity(rounds)
    var value: UInt64 = 0
    var ready = ReadyEvents(capacity: 4)
    for round in 0..<rounds {
        let start = nanoseconds()
        counts.requests.store(round + 1, ordering: .releasing)
        var one: UInt64 = 1
        _ = write(ping, &one, 8)
        if counts.replies.load(ordering: .acquiring) <= round { wait(on: pong, &ready) }
        times.append(nanoseconds() - start)
        _ = read(pong, &value, 8)
    }
    done.wait()
    return times
}

/// Heartbeats back to back through the simulated host and the agent (two threads, real rings).
func heartbeatRoundTrips(rounds: Int) throws -> [UInt64] {
    let (hostSocket, agentSocket) = try SimSocket.pair()
    var configuration = SimHostConfiguration()
    configuration.services = [.heartbeat]
    configuration.heartbeatInterval = 0
    let host = SimulatedHyperVHost(endpoint: SimHostEndpoint(socket: hostSocket), configuration: configuration)
    let agent = try IntegrationAgent(
        endpoint: SimGuestEndpoint(socket: agentSocket), services: [HeartbeatAgentService(probe: nil)])
    let finished = DispatchSemaphore(value: 0)
    Thread {
        try? agent.run()
        finished.signal()
    }.start()
    try host.offerAll()
    guard try host.run(timeout: 120, until: { host.heartbeatsOK >= rounds + 100 }) else {
        throw ValidationFailure(message: "heartbeats stalled at \(host.heartbeatsOK)")
    }
    agent.stop()
    finished.wait()
    guard host.heartbeatFailures.isEmpty, host.protocolErrors.isEmpty else {
        throw ValidationFailure(message: "errors: \(host.heartbeatFailures + host.protocolErrors)")
    }
    return Array(host.heartbeatRoundTrips.suffix(rounds))  // the first 100 warm up
}

struct ValidationFailure: Error {
    var message: String
}

let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 20000 : 20000
let floor = eventfdPingPong(rounds: rounds)
let pollFloor = pollLoopPingPong(rounds: rounds)
let epollFloor = pollLoopPingPong(rounds: rounds, epoll: true)
let heartbeat = try heartbeatRoundTrips(rounds: rounds)
print("rounds: \(rounds)")
print(String(format: "eventfd ping-pong floor   p50 %8.1f us  p99 %8.1f us", percentile(floor, 0.5), percentile(floor, 0.99)))
print(String(format: "heartbeat round trip      p50 %8.1f us  p99 %8.1f us", percentile(heartbeat, 0.5), percentile(heartbeat, 0.99)))
print(String(format: "poll-loop ping-pong       p50 %8.1f us  p99 %8.1f us  (poll on 4 descriptors, then read; not the goal's floor)",
             percentile(pollFloor, 0.5), percentile(pollFloor, 0.99)))
print(String(format: "epoll-loop ping-pong      p50 %8.1f us  p99 %8.1f us  (epoll_wait on the same 4, then read; not the goal's floor)",
             percentile(epollFloor, 0.5), percentile(epollFloor, 0.99)))
for version in [ICVersion(4, 0), ICVersion(3, 0)] {
    let residuals = try TimesyncSimulation(version: version, driftPPM: 100).run(seconds: 600)
    let tail = Array(residuals.suffix(60))  // the last 5 minutes
    print(String(format: "timesync v%@ residual (last 5 of 10 min, 100 ppm, heavy-tailed latency)  p50 %6.1f us  p99 %6.1f us",
                 version.description, Double(TimesyncSimulation.percentile(tail, 0.5)) / 1000,
                 Double(TimesyncSimulation.percentile(tail, 0.99)) / 1000))
}
