import HVProtocol
import RingTransport

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
    /// The agent dropped a channel because it is gone (a rescinded uio device reads EIO, the peer
    /// went away): the source may offer the device again when it comes back.
    func lost(classID: VMBusGUID, instanceID: VMBusGUID)
    /// The agent closed a channel whose ring was corrupt and will ask for it again with
    /// ``reopen(classID:instanceID:)`` after a back-off.
    func closed(classID: VMBusGUID, instanceID: VMBusGUID)
    /// The channel closed by ``closed(classID:instanceID:)``, open again with fresh rings: the
    /// host sees a new open and negotiates again (docs/PROTOCOL.md §3).
    func reopen(classID: VMBusGUID, instanceID: VMBusGUID) throws -> VMBusChannel
}

public enum ChannelSourceEvent {
    case offer(classID: VMBusGUID, instanceID: VMBusGUID, channel: VMBusChannel)
    case rescind(classID: VMBusGUID, instanceID: VMBusGUID)
    /// An offer that failed validation (bad sizes, wrong descriptors); nothing was mapped.
    case refused(reason: String)
}

/// A descriptor the agent's loop also watches (signals, the KVP device, netlink, the status
/// socket, timers, a health probe), with what to do when it becomes readable.
public struct PollInput {
    /// Read before every wait when not ``isStable``: a descriptor may change (the KVP device is
    /// reopened after an error); -1 is not watched.
    public var descriptor: () -> Int32
    public var onReadable: () -> Void
    /// Whether the descriptor is the same for as long as the input is in the loop: the loop then
    /// registers it once (instead of again before every wait, which a changeable one needs, as a
    /// reopened device may get the same number as the one it replaces).
    public var isStable: Bool

    public init(descriptor: Int32, onReadable: @escaping () -> Void) {
        self.descriptor = { descriptor }
        self.onReadable = onReadable
        isStable = true
    }

    public init(currentDescriptor: @escaping () -> Int32, onReadable: @escaping () -> Void) {
        self.descriptor = currentDescriptor
        self.onReadable = onReadable
        isStable = false
    }
}
