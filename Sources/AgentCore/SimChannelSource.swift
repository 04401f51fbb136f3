import HVProtocol
import RingTransport
import SimTransport

/// Channels offered by a simulated host over its control socket.
public final class SimChannelSource: ChannelSource {
    public let endpoint: SimGuestEndpoint
    /// The last channel end of every offer, kept for ``reopen(classID:instanceID:)`` (its memory
    /// and doorbell outlive a failed end).
    private var offered: [VMBusGUID: VMBusChannel] = [:]

    public init(endpoint: SimGuestEndpoint) {
        self.endpoint = endpoint
    }

    public var pollDescriptor: Int32 { endpoint.pollDescriptor }

    public func events() throws -> [ChannelSourceEvent]? {
        let result = Result { () throws(ChannelError) in try endpoint.nextEvent(timeoutMilliseconds: 0) }
        switch result {
        case .success(.none): return []
        case .success(.offer(let c, let i, let channel)):
            offered[i] = channel
            return [.offer(classID: c, instanceID: i, channel: channel)]
        case .success(.rescind(let c, let i)):
            offered[i] = nil
            return [.rescind(classID: c, instanceID: i)]
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
        offered[instanceID] = nil
        try? endpoint.report(.closed, classID: classID, instanceID: instanceID)
    }

    public func closed(classID: VMBusGUID, instanceID: VMBusGUID) {
        try? endpoint.report(.closed, classID: classID, instanceID: instanceID)
    }

    public func reopen(classID: VMBusGUID, instanceID: VMBusGUID) throws -> VMBusChannel {
        guard let previous = offered[instanceID] else { throw ChannelError.rescinded }
        let channel = try previous.reopenedAsGuest()
        offered[instanceID] = channel
        return channel
    }
}
