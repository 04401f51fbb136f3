/// What the host asked for, carried out only after the reply was consumed.
public struct ShutdownRequest: Hashable, Sendable {
    public enum Kind: String, Sendable {
        case powerOff = "poweroff"
        case reboot
        case hibernate
    }
    public var kind: Kind
    public var reasonCode: UInt32
    public var timeoutSeconds: UInt32
    public var message: String

    public init(kind: Kind, reasonCode: UInt32, timeoutSeconds: UInt32, message: String) {
        self.kind = kind
        self.reasonCode = reasonCode
        self.timeoutSeconds = timeoutSeconds
        self.message = message
    }
}
