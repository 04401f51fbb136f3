import AgentCore

/// The one observer every way of running the agent installs: it folds events into the status
/// board (when there is one), re-checks systemd readiness, and logs a line per event worth one,
/// refusals rate-limited (``RefusalLogLimiter``).
enum AgentObserver {
    /// - Parameters:
    ///   - log: the line for an event worth one.
    ///   - routine: the line for a routine activity (``ServiceActivity/isRoutine``: a heartbeat
    ///     answered, a time sample); the daemons log these at debug. nil: `log` takes them too (the
    ///     demo's timeline shows everything).
    static func make(board: StatusBoard?, gate: ReadinessGate?, log: @escaping @Sendable (String) -> Void,
                     routine: (@Sendable (String) -> Void)? = nil) -> AgentEventObserver {
        let limiter = RefusalLogLimiter()
        return { event in
            board?.record(event)
            gate?.check()
            guard let line = limiter.line(for: event, describe: Timeline.describe) else { return }
            if case let .activity(_, activity) = event, activity.isRoutine, let routine {
                routine(line)
            } else {
                log(line)
            }
        }
    }
}
