import HVSystem

/// Why a D-Bus exchange failed: the socket, a message that breaks the protocol, no reply in time,
/// or the peer's own error reply (its name, e.g. `org.freedesktop.NetworkManager.PermissionDenied`,
/// and message — what an admin reads in the agent's log).
public enum DBusError: Error, Equatable, Sendable, CustomStringConvertible {
    case system(SystemCallError)
    /// A message (ours or the peer's) that the protocol does not allow, or a failed handshake.
    case invalid(String)
    case timedOut(String)
    case remote(name: String, message: String)

    public var description: String {
        switch self {
        case let .system(error): "D-Bus: \(error)"
        case let .invalid(why): "D-Bus: \(why)"
        case let .timedOut(what): "D-Bus: no reply to \(what) in time"
        case let .remote(name, message): message.isEmpty ? name : "\(name): \(message)"
        }
    }
}
