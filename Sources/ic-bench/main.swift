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
let heartbeat = try heartbeatRoundTrips(rounds: rounds)
print("rounds: \(rounds)")
print(String(format: "eventfd ping-pong floor   p50 %8.1f us  p99 %8.1f us", percentile(floor, 0.5), percentile(floor, 0.99)))
print(String(format: "heartbeat round trip      p50 %8.1f us  p99 %8.1f us", percentile(heartbeat, 0.5), percentile(heartbeat, 0.99)))
for version in [ICVersion(4, 0), ICVersion(3, 0)] {
    let residuals = try TimesyncSimulation(version: version, driftPPM: 100).run(seconds: 600)
    let tail = Array(residuals.suffix(60))  // the last 5 minutes
    print(String(format: "timesync v%@ residual (last 5 of 10 min, 100 ppm, heavy-tailed latency)  p50 %6.1f us  p99 %6.1f us",
                 version.description, Double(TimesyncSimulation.percentile(tail, 0.5)) / 1000,
                 Double(TimesyncSimulation.percentile(tail, 0.99)) / 1000))
}
