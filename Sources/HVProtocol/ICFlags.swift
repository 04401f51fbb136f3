/// `icflags` (docs/PROTOCOL.md §5.2/§5.3).
public struct ICFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// bit0: the message is part of a transaction (Windows ignores timesync requests without it).
    public static let transaction = ICFlags(rawValue: 1)
    /// bit1: set by the host on requests.
    public static let request = ICFlags(rawValue: 2)
    /// bit2: set by the guest on replies.
    public static let response = ICFlags(rawValue: 4)

    /// What every host request carries: 0x03.
    public static let hostRequest: ICFlags = [.transaction, .request]
    /// What every guest reply carries: 0x05. The openvmm host requires both bits.
    public static let guestResponse: ICFlags = [.transaction, .response]
}
