import FoundationEssentials
import HVProtocol

/// What `hvagent status` shows and `hvagent doctor` reads: per service, its mode, negotiated
/// versions, counters, last activity and last error, as the running daemon serves it on its status
/// socket (``LocalSocketServer``). Built by AgentCore's `StatusBoard` from the agent's events.
public struct AgentStatus: Codable, Sendable, Equatable {
    public struct Service: Codable, Sendable, Equatable {
        /// How the daemon serves a service: over its own ring (uio, or the simulated VMBus), left to
        /// the kernel, or not at all (off in the configuration, or unavailable on this VM).
        public enum Mode: String, Codable, Sendable {
            case uio, kernel, simulated, off, unavailable
        }

        public var name: ICServiceID
        public var mode: Mode
        public var reason: String
        public var open: Bool = false
        public var frameworkVersion: String?
        public var serviceVersion: String?
        public var requests: Int = 0
        public var dropped: Int = 0
        public var lastActivity: Date?
        public var lastError: String?

        public init(name: ICServiceID, mode: Mode, reason: String) {
            self.name = name
            self.mode = mode
            self.reason = reason
        }

        enum CodingKeys: String, CodingKey {
            case name, mode, reason, open, frameworkVersion = "framework_version", serviceVersion = "service_version"
            case requests, dropped, lastActivity = "last_activity", lastError = "last_error"
        }
    }

    /// Configuration reloads (SIGHUP) since start.
    public struct Reloads: Codable, Sendable, Equatable {
        public var count = 0
        public var last: Date?
        /// Keys changed in the file that take effect only at the next start.
        public var restartPending: [String] = []
        /// Why the last reload was refused (the running configuration stayed), nil after a good one.
        public var lastError: String?

        public init() {}

        enum CodingKeys: String, CodingKey {
            case count, last, restartPending = "restart_pending", lastError = "last_error"
        }
    }

    public var version: String
    public var pid: Int32
    public var started: Date
    public var services: [Service]
    public var reloads = Reloads()

    public init(version: String, pid: Int32, started: Date, services: [Service]) {
        self.version = version
        self.pid = pid
        self.started = started
        self.services = services
    }
}

extension AgentStatus {
    /// Decodes what the daemon's status socket sent (ISO 8601 dates); nil when it is not a status.
    public static func decode(_ bytes: [UInt8]) -> AgentStatus? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(AgentStatus.self, from: Data(bytes))
    }
}
