import AgentConfig
import Logging

extension Logger.Level {
    /// The level `[agent] log_level` asks for. AgentConfig depends on no logging library, so the
    /// mapping lives beside the log handler that uses it.
    public init(_ choice: LogLevelChoice) {
        switch choice {
        case .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        }
    }
}
