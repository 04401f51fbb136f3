import RingTransport
import SimTransport
import HVProtocol

/// Where the agent's channels come from: the simulated VMBus (offers over a socket) or real
/// devices bound to uio_hv_generic. The agent's loop treats both alike.
public protocol ChannelSource: AnyObject {
    /// Readable when ``events()`` has something to report; -1 when the source never reports
    /// anything asynchronously (poll ignores negative descriptors).
    var pollDescriptor: Int32 { get }
    /// Offers and rescinds available now, without blocking. `nil` when the source is gone for good
    /// (the simulated host disconnected): the agent then stops.
    func events() throws -> [ChannelSourceEvent]?
    /// The agent took the channel (the simulator's host starts talking once told).
    func opened(classID: VMBusGUID, instanceID: VMBusGUID) throws
    /// The agent dropped a channel after an error (a rescinded uio device reads EIO): the source
    /// may offer the device again when it comes back.
    func lost(classID: VMBusGUID, instanceID: VMBusGUID)
}

public enum ChannelSourceEvent {
    case offer(classID: VMBusGUID, instanceID: VMBusGUID, channel: VMBusChannel)
    case rescind(classID: VMBusGUID, instanceID: VMBusGUID)
    /// An offer that failed validation (bad sizes, wrong descriptors); nothing was mapped.
    case refused(reason: String)
}

/// Channels offered by a simulated host over its control socket.
public final class SimChannelSource: ChannelSource {
    public let endpoint: SimGuestEndpoint

    public init(endpoint: SimGuestEndpoint) {
        self.endpoint = endpoint
    }

    public var pollDescriptor: Int32 { endpoint.pollDescriptor }

    public func events() throws -> [ChannelSourceEvent]? {
        let result = Result { () throws(ChannelError) in try endpoint.nextEvent(timeoutMilliseconds: 0) }
        switch result {
        case .success(.none): return []
        case .success(.offer(let c, let i, let channel)): return [.offer(classID: c, instanceID: i, channel: channel)]
        case .success(.rescind(let c, let i)): return [.rescind(classID: c, instanceID: i)]
        case .failure(.rescinded): return nil
        // A malformed offer is refused; the agent keeps serving the other channels.
        case .failure(.invalidConfiguration(let what)): return [.refused(reason: what)]
        case .failure(let error): throw error
        }
    }

    public func opened(classID: VMBusGUID, instanceID: VMBusGUID) throws {
        try endpoint.report(.opened, classID: classID, instanceID: instanceID)
    }

    public func lost(classID: VMBusGUID, instanceID: VMBusGUID) {
        try? endpoint.report(.closed, classID: classID, instanceID: instanceID)
    }
}

/// A descriptor the agent's loop also watches (signals, the KVP device, netlink, the status
/// socket, timers), with what to do when it becomes readable.
public struct PollInput {
    /// Read before every poll: a descriptor may change (the KVP device is reopened after an error).
    public var descriptor: () -> Int32
    public var onReadable: () -> Void

    public init(descriptor: Int32, onReadable: @escaping () -> Void) {
        self.descriptor = { descriptor }
        self.onReadable = onReadable
    }

    public init(currentDescriptor: @escaping () -> Int32, onReadable: @escaping () -> Void) {
        self.descriptor = currentDescriptor
        self.onReadable = onReadable
    }
}
