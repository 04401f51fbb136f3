/// How a channel end signals its peer and learns that the peer signalled it.
///
/// uio_hv_generic and the simulator differ only here (and in where the memory comes from):
/// uio uses one device descriptor for both directions, the simulator one eventfd per direction.
public protocol ChannelDoorbell: AnyObject {
    /// Becomes readable (POLLIN) when the peer has signalled, and every signal wakes its waiters
    /// even while it is still readable (an eventfd write, a uio interrupt): the agent's loop
    /// watches it edge-triggered and never consumes it (IntegrationAgent.serve).
    var pollDescriptor: Int32 { get }
    /// Signals the peer once.
    func signalPeer() throws(ChannelError)
    /// Consumes pending signals after `pollDescriptor` became readable, without blocking.
    /// Throws ``ChannelError/rescinded`` when the device is gone.
    func acknowledge() throws(ChannelError)
}
