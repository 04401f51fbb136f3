/// One network interface (an `RTM_NEWLINK` message): what the rules and the MAC lookup need.
public struct NetworkInterface: Sendable, Hashable {
    /// `ifi_index`.
    public var index: Int32
    /// `IFLA_IFNAME`.
    public var name: String
    /// `ifi_flags` (IFF_UP 0x1, IFF_LOOPBACK 0x8, ...).
    public var flags: UInt32
    /// `IFLA_ADDRESS`: 6 bytes for Ethernet, empty or other lengths for other link types.
    public var hardwareAddress: [UInt8]

    public init(index: Int32, name: String, flags: UInt32 = 0x1, hardwareAddress: [UInt8] = []) {
        self.index = index
        self.name = name
        self.flags = flags
        self.hardwareAddress = hardwareAddress
    }

    /// IFF_LOOPBACK: upstream's only exclusion rule, always applied.
    public var isLoopback: Bool { flags & 0x8 != 0 }
}
