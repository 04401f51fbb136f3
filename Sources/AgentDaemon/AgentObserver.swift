import AgentCore

/// The one observer every way of running the agent installs: it folds events into the status
/// board (when there is one), re-checks systemd readiness, and logs a line per event worth one,
/// refusals rate-limited (``RefusalLogLimiter``).
enum AgentObserver {
    static func make(board: StatusBoard?, gate: ReadinessGate?, log: @escaping @Sendable (String) -> Void) -> AgentEventObserver {
        let limiter = RefusalLogLimiter()
        return { event in
            board?.record(event)
            gate?.check()
            if let line = limiter.line(for: event, describe: Timeline.describe) { log(line) }
        }
    }
}
