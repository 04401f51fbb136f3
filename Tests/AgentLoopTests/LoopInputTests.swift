import AgentCore
import CHVSupport
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
