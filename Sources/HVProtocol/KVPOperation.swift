/// KVP operation codes (docs/PROTOCOL.md §7.2, §7.10); the same numbers on the host wire
/// and in the kernel message.
public enum KVPOperation: UInt8, Sendable {
    case get = 0
    case set = 1
    case delete = 2
    case enumerate = 3
    case getIPInfo = 4
    case setIPInfo = 5

    /// Registration code of current daemons (KVP_OP_REGISTER1).  Only
    /// meaningful on /dev/vmbus/hv_kvp during the handshake.
    public static let register1: UInt8 = 100
    /// Number of pools the protocol defines (KVP_POOL_COUNT).
    public static let poolCount: UInt8 = 5
}
