import Foundation
import Synchronization
import SystemBus

/// A D-Bus service for tests (a stand-in for NetworkManager or systemd-networkd) on a
/// ``PrivateBus``: owns `name`, answers each method call with what `handler` returns, and records
/// the calls in order, on a thread of its own.
public final class FakeBusService: @unchecked Sendable {
    /// One call as the service saw it.
    public struct Call: Equatable, Sendable {
        public var path: String
        public var interface: String
        public var member: String
        public var body: [DBusValue]
    }

    /// A method's answer: a body, or an error name and message.
    public enum Answer: Sendable {
        case reply([DBusValue])
        case error(String, String)
    }

    /// What the service's thread and the test share.
    private final class Shared: Sendable {
        let recorded = Mutex<[Call]>([])
        let stopping = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
    }

    private let connection: DBusConnection
    private let shared = Shared()

    public var calls: [Call] { shared.recorded.withLock { $0 } }

    /// Calls of `member`, in order.
    public func calls(_ member: String) -> [Call] { calls.filter { $0.member == member } }

    public init(bus: PrivateBus, name: String, handler: @escaping @Sendable (Call) -> Answer) throws {
        connection = try DBusConnection(path: bus.socketPath)
        let owned = try connection.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                                        interface: "org.freedesktop.DBus", member: "RequestName", body: [.string(name), .uint32(4)])
        guard owned == [.uint32(1)] else { throw Shell.Failure(description: "could not own \(name): \(owned)") }
        // Only the service's thread uses the connection from here on.
        nonisolated(unsafe) let connection = connection
        let shared = shared
        Thread.detachNewThread {
            defer { shared.finished.signal() }
            while !shared.stopping.load(ordering: .relaxed) {
                guard let message = try? connection.receive(timeout: .milliseconds(100)) else { continue }
                guard message.kind == .methodCall else { continue }
                let call = Call(path: message.path ?? "", interface: message.interface ?? "", member: message.member ?? "", body: message.body)
                shared.recorded.withLock { $0.append(call) }
                var reply: DBusMessage
                switch handler(call) {
                case let .reply(body):
                    reply = DBusMessage(kind: .methodReturn)
                    reply.body = body
                case let .error(name, text):
                    reply = DBusMessage(kind: .error)
                    reply.errorName = name
                    reply.body = [.string(text)]
                }
                reply.replySerial = message.serial
                reply.destination = message.sender
                _ = try? connection.send(reply)
            }
        }
    }

    /// Stops the thread (at most 100 ms later); calls after this go unanswered.
    public func stop() {
        guard !shared.stopping.exchange(true, ordering: .relaxed) else { return }
        shared.finished.wait()
    }

    deinit {
        stop()
    }
}
