import CHVSupport
import HVSystem
import RingTransport

import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The host side of the simulated VMBus: creates channels and offers them to one connected agent.
///
/// Creating a channel does what the kernel does when a guest opens `/dev/uioN`: the two rings are
/// formatted (indices 0, feature bit 0 set) in a memfd laid out exactly like uio map 0. The host end
/// returned here is an ordinary ``VMBusChannel`` in the host role: the same ring code as the agent.
public final class SimHostEndpoint {
    public let socket: SimSocket

    public init(socket: SimSocket) {
        self.socket = socket
    }

    /// Creates a channel and offers it to the agent.
    /// - Parameters:
    ///   - ringSize: bytes per ring, header included (uio_hv_generic mainline: 2 MiB + one page for
    ///     ICs; hv_utils uses 16 KiB).
    ///   - headerSize: the header page size; the system page size by default, as under uio.
    /// - Returns: the host end of the channel.
    public func offer(
        classID: VMBusGUID, instanceID: VMBusGUID, ringSize: Int, headerSize: Int = SimHostEndpoint.pageSize,
        idleSpin: Int = VMBusChannel.defaultIdleSpin
    ) throws(ChannelError) -> VMBusChannel {
        guard ringSize > headerSize, ringSize % 8 == 0, ringSize <= Int(UInt32.max) / 2 else {
            throw .invalidConfiguration("ring size \(ringSize)")
        }
        let memfd = chv_memfd_create("hvagent-sim-ring", 0)
        guard memfd >= 0 else { throw .system(call: "memfd_create", errno: .current) }
        defer { close(memfd) }
        guard ftruncate(memfd, off_t(2 * ringSize)) == 0 else { throw .system(call: "ftruncate", errno: .current) }
        let memory = try SharedMemoryRegion(mapping: memfd, byteCount: 2 * ringSize)
        RingHeader.format(memory.baseAddress, headerSize: headerSize)
        RingHeader.format(memory.baseAddress + ringSize, headerSize: headerSize)

        let hostToGuest = chv_eventfd(1)
        guard hostToGuest >= 0 else { throw .system(call: "eventfd", errno: .current) }
        let guestToHost = chv_eventfd(1)
        guard guestToHost >= 0 else {
            let failure = Errno.current
            close(hostToGuest)
            throw .system(call: "eventfd", errno: failure)
        }
        let doorbell = EventFDDoorbell(incoming: guestToHost, outgoing: hostToGuest)
        let channel = try VMBusChannel(
            memory: memory, ringSize: ringSize, headerSize: headerSize, doorbell: doorbell, role: .host, idleSpin: idleSpin)
        let message = SimControlMessage(
            kind: .offer, classID: classID, instanceID: instanceID, ringSize: UInt32(ringSize), headerSize: UInt32(headerSize))
        try socket.send(message, descriptors: [memfd, hostToGuest, guestToHost])
        return channel
    }

    /// Tells the agent the channel is gone (the host keeps or drops its end as it likes).
    public func rescind(classID: VMBusGUID, instanceID: VMBusGUID) throws(ChannelError) {
        try socket.send(SimControlMessage(kind: .rescind, classID: classID, instanceID: instanceID))
    }

    /// The next message from the agent (``SimControlMessage/Kind/opened`` or ``SimControlMessage/Kind/closed``),
    /// or `nil` on timeout. Throws ``ChannelError/rescinded`` when the agent disconnected.
    public func nextMessage(timeoutMilliseconds: Int32) throws(ChannelError) -> SimControlMessage? {
        guard let (message, fds) = try socket.receive(timeoutMilliseconds: timeoutMilliseconds) else { return nil }
        fds.forEach { close($0) } // the agent never sends descriptors
        return message
    }

    public static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }
}
