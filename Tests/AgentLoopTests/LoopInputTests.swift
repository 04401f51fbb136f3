import AgentCore
import CHVSupport
import Heartbeat
import HVProtocol
import RingTransport
import Foundation
import SimTransport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The loop's extra inputs under its epoll set: registrations must follow what `inputs` says
/// and what a changeable input's descriptor is now, or an input goes deaf (a device reopened
/// under the same number) or is served after it left (docs/ARCHITECTURE.md, "The event loop").
@Suite("The loop's inputs")
struct LoopInputTests {
    /// A device-like input: one eventfd at a time, replaced on the loop's thread.
    final class Device: @unchecked Sendable {
        var fd = chv_eventfd(1)
        var served = 0
        var reusedNumber = false
        let wake = DispatchSemaphore(value: 0)

        func signal() {
            var one: UInt64 = 1
            _ = write(fd, &one, 8)
        }

        func consume() {
            var value: UInt64 = 0
            _ = read(fd, &value, 8)
        }
    }

    /// An agent with no services on a simulated VMBus whose host stays quiet, run on a thread.
    final class Loop: @unchecked Sendable {
        let agent: IntegrationAgent
        let host: SimSocket
        let finished = DispatchSemaphore(value: 0)

        init(_ inputs: (IntegrationAgent) -> [PollInput]) throws {
            let (hostSocket, agentSocket) = try SimSocket.pair()
            host = hostSocket
            agent = try IntegrationAgent(endpoint: SimGuestEndpoint(socket: agentSocket), services: [])
            agent.inputs = inputs(agent)
            let agent = self.agent, finished = self.finished
            Thread {
                try? agent.run()
                finished.signal()
            }.start()
        }

        func stop() {
            agent.stop()
            finished.wait()
        }
    }

    /// The device is closed and opened again while it is being served, and gets its old number
    /// back: the new descriptor must still wake the loop.
    @Test func aDeviceReopenedUnderTheSameNumberIsStillServed() throws {
        let device = Device()
        let loop = try Loop { _ in
            [PollInput(currentDescriptor: { device.fd }) {
                device.consume()
                device.served += 1
                if device.served == 1 {
                    // A new device file under the old number (dup2 closes the old one first).
                    let new = chv_eventfd(1)
                    device.reusedNumber = dup2(new, device.fd) == device.fd
                    close(new)
                }
                device.wake.signal()
            }]
        }
        defer { loop.stop() }
        device.signal()
        #expect(device.wake.wait(timeout: .now() + 5) == .success)
        device.signal()  // the new descriptor
        #expect(device.wake.wait(timeout: .now() + 5) == .success, "the reopened device was not served")
        #expect(device.reusedNumber)
        #expect(device.served == 2)
    }

    /// An input that takes itself out of `inputs` is not served again, though its descriptor is
    /// still open and readable; the loop keeps serving what is left.
    @Test func anInputTakenOutIsNoLongerServed() throws {
        let leaving = Device()
        let staying = Device()
        defer { close(leaving.fd); close(staying.fd) }
        let loop = try Loop { agent in
            [PollInput(descriptor: leaving.fd) {
                leaving.served += 1
                agent.inputs.removeFirst()  // not consumed: it stays readable
                leaving.wake.signal()
            },
             PollInput(descriptor: staying.fd) {
                staying.consume()
                staying.served += 1
                staying.wake.signal()
            }]
        }
        defer { loop.stop() }
        leaving.signal()
        #expect(leaving.wake.wait(timeout: .now() + 5) == .success)
        staying.signal()
        #expect(staying.wake.wait(timeout: .now() + 5) == .success)
        #expect(leaving.wake.wait(timeout: .now() + 0.3) == .timedOut)
        #expect(leaving.served == 1)
        #expect(staying.served == 1)
    }
}

/// A rescinded uio device under the edge-triggered loop: its poll reports every bit (IN, ERR,
/// HUP) and its read fails with EIO (docs/PROTOCOL.md §3.4). The loop never reads a doorbell on a
/// plain signal, so it must read it on an error or hang-up, or the rescind would go unnoticed.
@Suite("A doorbell's hang-up under the epoll loop")
struct DoorbellHangUpTests {
    /// uio after a rescind: readable and hung up, and reading it fails with EIO.
    final class RescindedDoorbell: ChannelDoorbell {
        let pollDescriptor: Int32
        init(pollDescriptor: Int32) { self.pollDescriptor = pollDescriptor }
        func signalPeer() throws(ChannelError) {}
        func acknowledge() throws(ChannelError) { throw .rescinded }
    }

    /// One offer, taken before the loop runs; records what the agent reports lost.
    final class OneChannelSource: ChannelSource, @unchecked Sendable {
        let pollDescriptor: Int32 = -1
        private var pending: [ChannelSourceEvent]
        let lostReported = DispatchSemaphore(value: 0)
        private(set) var lostInstances: [VMBusGUID] = []

        init(_ offer: ChannelSourceEvent) { pending = [offer] }

        func events() throws -> [ChannelSourceEvent]? {
            defer { pending = [] }
            return pending
        }
        func opened(classID: VMBusGUID, instanceID: VMBusGUID) throws {}
        func lost(classID: VMBusGUID, instanceID: VMBusGUID) {
            lostInstances.append(instanceID)
            lostReported.signal()
        }
        func closed(classID: VMBusGUID, instanceID: VMBusGUID) {}
        func reopen(classID: VMBusGUID, instanceID: VMBusGUID) throws -> VMBusChannel { throw ChannelError.rescinded }
    }

    @Test func aRescindedDeviceFailsItsChannel() throws {
        var pipeEnds: [Int32] = [0, 0]
        try #require(pipe(&pipeEnds) == 0)
        _ = fcntl(pipeEnds[0], F_SETFL, O_NONBLOCK)
        let ringSize = 16384
        let memory = try SharedMemoryRegion(anonymousByteCount: 2 * ringSize)
        RingHeader.format(memory.baseAddress, headerSize: 4096)
        RingHeader.format(memory.baseAddress + ringSize, headerSize: 4096)
        let channel = try VMBusChannel(memory: memory, ringSize: ringSize, headerSize: 4096,
                                       doorbell: RescindedDoorbell(pollDescriptor: pipeEnds[0]), role: .guest)
        let kind = ICServiceID.heartbeat
        let source = OneChannelSource(.offer(classID: kind.classID, instanceID: kind.instanceID, channel: channel))
        let agent = try IntegrationAgent(source: source, services: [HeartbeatAgentService(probe: nil)])
        try agent.acceptPendingChannels()
        #expect(agent.openServices == [kind])
        let finished = DispatchSemaphore(value: 0)
        Thread {
            try? agent.run()
            finished.signal()
        }.start()
        // The rescind: a wake-up that leaves the descriptor readable and hung up.
        var byte: UInt8 = 1
        _ = write(pipeEnds[1], &byte, 1)
        close(pipeEnds[1])
        let reported = source.lostReported.wait(timeout: .now() + 5)
        agent.stop()
        finished.wait()
        close(pipeEnds[0])
        #expect(reported == .success, "the rescind went unnoticed")
        #expect(source.lostInstances == [kind.instanceID])
        #expect(agent.openServices.isEmpty)
    }
}
