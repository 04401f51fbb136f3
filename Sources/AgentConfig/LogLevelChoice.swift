/// `[agent] log_level`: messages below this level are not logged. The words are swift-log's level
/// names; the mapping onto `Logger.Level` lives in DaemonSupport, which owns the log handler
/// (AgentConfig depends on no other module).
public enum LogLevelChoice: String, ConfigChoice, Hashable {
    case debug, info, notice, warning, error
}
