import FoundationEssentials
import Timesync

/// The default time mode: feed chronyd when it is installed, else discipline the clock.
public enum DefaultTimesyncMode {
    public static var detected: TimesyncMode {
        ["/usr/sbin/chronyd", "/usr/bin/chronyd", "/sbin/chronyd"].contains { FileManager.default.isExecutableFile(atPath: $0) }
            ? .chrony : .discipline
    }
}

/// The version reported by `--version`, `hvagent status`, and the KVP IntegrationServicesVersion
/// of the ring front end.
public enum HVAgentVersion {
    public static let string = "0.1.0"
}

/// A failure the daemon reports to the admin: the command line prints "Error: <message>" and
/// exits 1, without the usage text (which is for command-line mistakes only).
public struct CommandFailure: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
