import HVSystem
import RingTransport

import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The agent side of the simulated VMBus: receives offers and rescinds from the simulated host.
///
/// Everything the offer says is checked before use, as with a real host in a confidential VM: ring
/// and header sizes must be sane and the memfd must really be that large, or the offer is refused.
public final class SimGuestEndpoint {
    public let socket: SimSocket

    public init(socket: SimSocket) {
        self.socket = socket
    }

    /// Connects to a simulated host listening at `path`.
    public convenience init(connectingTo path: String) throws(ChannelError) {
        self.init(socket: try SimSocket.connect(path: path))
    }

    /// What the host said.
    public enum Event {
        /// A new channel, already mapped; the agent owns the guest end.
        case offer(classID: VMBusGUID, instanceID: VMBusGUID, channel: VMBusChannel)
        /// The channel with this instance id is gone.
        case rescind(classID: VMBusGUID, instanceID: VMBusGUID)
    }

    /// Readable when a control message is waiting (for an event loop).
    public var pollDescriptor: Int32 { socket.descriptor }

    /// Waits up to `timeoutMilliseconds` (-1 = forever) for the next event; `nil` on timeout.
    /// Throws ``ChannelError/rescinded`` when the host went away.
    public func nextEvent(timeoutMilliseconds: Int32, idleSpin: Int = VMBusChannel.defaultIdleSpin) throws(ChannelError) -> Event? {
        guard let (message, fds) = try socket.receive(timeoutMilliseconds: timeoutMilliseconds) else { return nil }
        switch message.kind {
        case .offer:
            return .offer(classID: message.classID, instanceID: message.instanceID, channel: try open(message, fds, idleSpin: idleSpin))
        case .rescind:
            fds.forEach { close($0) }
            return .rescind(classID: message.classID, instanceID: message.instanceID)
        case .opened, .closed:
            fds.forEach { close($0) }
            throw .invalidConfiguration("host sent a guest-only message (\(message.kind))")
        }
    }

    /// Tells the host the agent opened (or closed) the channel.
    public func report(_ kind: SimControlMessage.Kind, classID: VMBusGUID, instanceID: VMBusGUID) throws(ChannelError) {
        try socket.send(SimControlMessage(kind: kind, classID: classID, instanceID: instanceID))
    }

    private func open(_ message: SimControlMessage, _ fds: [Int32], idleSpin: Int) throws(ChannelError) -> VMBusChannel {
        guard fds.count == 3 else {
            fds.forEach { close($0) }
            throw .invalidConfiguration("offer with \(fds.count) descriptors, expected 3")
        }
        let (memfd, hostToGuest, guestToHost) = (fds[0], fds[1], fds[2])
        // The doorbell owns the two eventfds from here on, whatever happens next.
        let doorbell = EventFDDoorbell(incoming: hostToGuest, outgoing: guestToHost)
        defer { close(memfd) }
        let ringSize = Int(message.ringSize)
        let headerSize = Int(message.headerSize)
        guard headerSize >= RingLayout.minimumHeaderSize, ringSize > headerSize, ringSize % 8 == 0,
            ringSize <= 1 << 30
        else {
            throw .invalidConfiguration("offer with ring size \(ringSize) and header size \(headerSize)")
        }
        var st = stat()
        guard fstat(memfd, &st) == 0 else { throw .system(call: "fstat", errno: .current) }
        guard Int(st.st_size) >= 2 * ringSize else {
            throw .invalidConfiguration("offer memory of \(st.st_size) bytes cannot hold two rings of \(ringSize)")
        }
        let memory = try SharedMemoryRegion(mapping: memfd, byteCount: 2 * ringSize)
        return try VMBusChannel(
            memory: memory, ringSize: ringSize, headerSize: headerSize, doorbell: doorbell, role: .guest, idleSpin: idleSpin)
    }
}
