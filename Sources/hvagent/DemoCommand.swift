import ArgumentParser
import Foundation
import RingTransport
import SimTransport

/// `hvagent demo`: runs the agent against the built-in simulated host and shows the exchange.
///
/// The simulated host offers the integration-service channels over the simulated VMBus (memfd
/// rings + eventfds handed over a Unix socket), the agent opens each one, and the host sends
/// packets that the agent echoes back; every step is printed as it happens.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the agent against the built-in simulated Hyper-V host and show the exchange."
    )

    @Option(help: "Stop after this many seconds.")
    var seconds: Double = 5

    @Option(help: "Packets the host sends per channel per second.")
    var rate: Int = 2

    func run() throws {
        let (hostSocket, agentSocket) = try SimSocket.pair()
        let timeline = Timeline()
        let host = DemoHost(endpoint: SimHostEndpoint(socket: hostSocket), timeline: timeline, seconds: seconds, rate: max(1, rate))
        let agent = DemoAgent(endpoint: SimGuestEndpoint(socket: agentSocket), timeline: timeline)
        let agentThread = Thread { agent.run() }
        agentThread.start()
        let ok = host.run()
        agent.stop()
        while !agent.finished { usleep(10_000) }
        timeline.log("demo", ok ? "done: every echo matched" : "done with errors")
        if !ok { throw ExitCode.failure }
    }
}

/// Prints timestamped lines from both sides, serialised.
final class Timeline: @unchecked Sendable {
    private let lock = NSLock()
    private let start = Date()

    func log(_ who: String, _ text: String) {
        lock.lock()
        defer { lock.unlock() }
        let t = Date().timeIntervalSince(start)
        let line = String(format: "%7.3fs  ", t) + who.padding(toLength: 6, withPad: " ", startingAt: 0) + " " + text + "\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}

/// The integration-service channels the demo offers (class GUIDs from spec §4).
enum DemoChannels {
    static let all: [(name: String, classID: String)] = [
        ("heartbeat", "57164f39-9115-4e78-ab55-382f3bd5422d"),
        ("shutdown", "0e0b6031-5213-4934-818b-38d90ced39db"),
        ("timesync", "9527e630-d0ae-497b-adce-e80ab0175caf"),
        ("kvp", "a9a0f4e7-5a45-4d96-b827-8a841e8c03e6"),
    ]
}

final class DemoHost: @unchecked Sendable {
    let endpoint: SimHostEndpoint
    let timeline: Timeline
    let seconds: Double
    let rate: Int

    init(endpoint: SimHostEndpoint, timeline: Timeline, seconds: Double, rate: Int) {
        self.endpoint = endpoint
        self.timeline = timeline
        self.seconds = seconds
        self.rate = rate
    }

    func run() -> Bool {
        do {
            var channels: [(String, VMBusChannel)] = []
            for (index, entry) in DemoChannels.all.enumerated() {
                guard let classID = VMBusGUID(entry.classID),
                    let instanceID = VMBusGUID(String(format: "%08x-0000-4000-8000-000000000000", index + 1))
                else { return false }
                let channel = try endpoint.offer(classID: classID, instanceID: instanceID, ringSize: 16384 + SimHostEndpoint.pageSize)
                timeline.log("host", "offer \(entry.name) class=\(classID) instance=\(instanceID) ring=\(channel.ringSize) B")
                guard let reply = try endpoint.nextMessage(timeoutMilliseconds: 2000), reply.kind == .opened,
                    reply.instanceID == instanceID
                else {
                    timeline.log("host", "agent did not open \(entry.name)")
                    return false
                }
                timeline.log("host", "\(entry.name) opened by the agent")
                channels.append((entry.name, channel))
            }
            var ok = true
            var sequence: UInt64 = 0
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                for (name, channel) in channels {
                    sequence += 1
                    let payload = Array("hello #\(sequence) on \(name)".utf8)
                    try channel.send(payload, transactionID: sequence)
                    try channel.flush()
                    timeline.log("host", "-> \(name) packet #\(sequence) (\(payload.count) B)")
                    var echoed: [UInt8]? = nil
                    let waitUntil = Date().addingTimeInterval(2)
                    while echoed == nil && Date() < waitUntil {
                        try channel.receiveBatch { descriptor, bytes in
                            if descriptor.transactionID == sequence { echoed = Array(bytes.prefix(payload.count)) }
                        }
                        if echoed == nil, try !channel.finishBatch() {
                            _ = try channel.waitForSignal(timeoutMilliseconds: 100)
                        }
                    }
                    if echoed == payload {
                        timeline.log("host", "<- \(name) echo #\(sequence) matches")
                    } else {
                        timeline.log("host", "<- \(name) echo #\(sequence) missing or wrong")
                        ok = false
                    }
                }
                usleep(useconds_t(1_000_000 / rate))
            }
            for (index, entry) in DemoChannels.all.enumerated() {
                if let classID = VMBusGUID(entry.classID),
                    let instanceID = VMBusGUID(String(format: "%08x-0000-4000-8000-000000000000", index + 1)) {
                    try endpoint.rescind(classID: classID, instanceID: instanceID)
                }
            }
            timeline.log("host", "rescinded all channels")
            return ok
        } catch {
            timeline.log("host", "error: \(error)")
            return false
        }
    }
}

final class DemoAgent: @unchecked Sendable {
    let endpoint: SimGuestEndpoint
    let timeline: Timeline
    private let lock = NSLock()
    private var stopping = false
    private var done = false

    init(endpoint: SimGuestEndpoint, timeline: Timeline) {
        self.endpoint = endpoint
        self.timeline = timeline
    }

    var finished: Bool { lock.withLock { done } }
    func stop() { lock.withLock { stopping = true } }
    private var shouldStop: Bool { lock.withLock { stopping } }

    /// One thread, one poll over the control socket and every channel's doorbell.
    func run() {
        defer { lock.withLock { done = true } }
        var channels: [(instance: VMBusGUID, channel: VMBusChannel)] = []
        while !shouldStop {
            var fds = [pollfd(fd: endpoint.pollDescriptor, events: Int16(POLLIN), revents: 0)]
            fds += channels.map { pollfd(fd: $0.channel.pollDescriptor, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), 100) >= 0 else { continue }
            do {
                if fds[0].revents != 0, let event = try endpoint.nextEvent(timeoutMilliseconds: 0) {
                    switch event {
                    case .offer(let classID, let instanceID, let channel):
                        timeline.log("agent", "channel offered: class=\(classID); opening")
                        channels.append((instanceID, channel))
                        try endpoint.report(.opened, classID: classID, instanceID: instanceID)
                    case .rescind(_, let instanceID):
                        channels.removeAll { $0.instance == instanceID }
                        timeline.log("agent", "channel \(instanceID) rescinded")
                    }
                }
                for (index, entry) in channels.enumerated() where index + 1 < fds.count && fds[index + 1].revents != 0 {
                    _ = try entry.channel.waitForSignal(timeoutMilliseconds: 0)
                    repeat {
                        try entry.channel.receiveBatch { descriptor, payload in
                            try entry.channel.send(payload, transactionID: descriptor.transactionID)
                        }
                    } while try entry.channel.finishBatch()
                }
            } catch ChannelError.rescinded {
                return
            } catch {
                timeline.log("agent", "error: \(error)")
                return
            }
        }
    }
}
