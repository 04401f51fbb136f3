import HVProtocol
import RingTransport
import VMBusDiscovery
import HVProtocol

/// Channels of real integration-service devices, taken from hv_utils through uio_hv_generic.
///
/// At start-up it binds and opens every device of the services given (each kept open for the
/// process lifetime: closing the last descriptor closes the channel, docs/PROTOCOL.md §8 Q6). When a device
/// disappears (the host rescinds it; reading its uio node fails with EIO) and comes back, possibly
/// under a new instance directory and uio node, a vmbus uevent makes it look again by class GUID
/// and offer the new channel. No polling: without uevents nothing happens until the next one.
public final class UIOChannelSource: ChannelSource {
    public let sysfs: any SysfsAccess
    public let services: [ICServiceID]
    public var binder: UIOBinder
    /// Where device nodes are (`/dev`; a parameter for tests).
    public let deviceDirectory: String
    /// Readable when uevents are pending (`UEventMonitor.descriptor`), or -1.
    public let pollDescriptor: Int32
    /// Called to drain pending uevents; returns whether any concerned the vmbus.
    private let drainUEvents: () -> Bool
    /// Instance ids we hold open, by class.
    private var open: [VMBusGUID: VMBusGUID] = [:]
    /// The device node of each open instance, for ``reopen(classID:instanceID:)``.
    private var nodes: [VMBusGUID: String] = [:]
    /// Devices we bound to uio (to hand back on release).
    public private(set) var bound: [VMBusDevice] = []
    /// Failures to bind or open, reported once per attempt (for the log and `status`).
    public private(set) var errors: [String] = []
    private var queued: [ChannelSourceEvent] = []

    public init(sysfs: any SysfsAccess, services: [ICServiceID], deviceDirectory: String = "/dev",
                uevents: (descriptor: Int32, drain: () -> Bool)? = nil) {
        self.sysfs = sysfs
        self.services = services
        self.binder = UIOBinder(sysfs: sysfs)
        self.deviceDirectory = deviceDirectory
        self.pollDescriptor = uevents?.descriptor ?? -1
        self.drainUEvents = uevents?.drain ?? { false }
    }

    /// Looks for every service that has no open channel: binds it to uio and opens it.
    public func scan() {
        let discovery = VMBusDiscovery(sysfs: sysfs)
        for service in services where open[service.classID] == nil {
            guard let device = discovery.devices(of: service.deviceClass).first else { continue }
            do {
                let node = try binder.bindToUIO(device)
                if !bound.contains(where: { $0.instanceID == device.instanceID }) { bound.append(device) }
                let channel = try openNode(node)
                open[service.classID] = device.instanceID
                nodes[device.instanceID] = node
                queued.append(.offer(classID: service.classID, instanceID: device.instanceID, channel: channel))
            } catch {
                errors.append("\(service): \(error)")
            }
        }
    }

    public func events() throws -> [ChannelSourceEvent]? {
        if drainUEvents() { scan() }
        defer { queued.removeAll() }
        return queued
    }

    public func opened(classID: VMBusGUID, instanceID: VMBusGUID) throws {}

    public func lost(classID: VMBusGUID, instanceID: VMBusGUID) {
        if open[classID] == instanceID { open[classID] = nil }
        nodes[instanceID] = nil
        // The device may already be back (the uevent came before the agent saw EIO).
        scan()
    }

    /// Nothing to do: the device node closes when the agent releases the channel end, which is
    /// what makes the host close the channel.
    public func closed(classID: VMBusGUID, instanceID: VMBusGUID) {}

    /// Opens the same node again: uio_hv_generic opens the channel on the first open (formatting
    /// the rings) and the host negotiates anew (docs/PROTOCOL.md §3).
    public func reopen(classID: VMBusGUID, instanceID: VMBusGUID) throws -> VMBusChannel {
        guard open[classID] == instanceID, let node = nodes[instanceID] else { throw ChannelError.rescinded }
        return try openNode(node)
    }

    private func openNode(_ node: String) throws(ChannelError) -> VMBusChannel {
        let root = sysfs.root == "/" ? "" : sysfs.root
        return try UIODevice.openChannel(path: "\(deviceDirectory)/\(node)", sysfsRoot: "\(root)/sys")
    }

    /// Hands every device this source bound back to the kernel (`hvagent release`, or
    /// `release_on_stop`). Channels must be closed first: unbinding a device that is still open
    /// tears it down under the agent.
    public func releaseAll() -> [String] {
        var problems: [String] = []
        let discovery = VMBusDiscovery(sysfs: sysfs)
        for device in bound {
            // A device that was rescinded meanwhile is gone: nothing to hand back.
            guard let current = discovery.device(named: device.instanceID.description) else { continue }
            do { try binder.releaseToKernel(current) } catch { problems.append("\(device.className): \(error)") }
        }
        bound.removeAll()
        open.removeAll()
        nodes.removeAll()
        return problems
    }
}
