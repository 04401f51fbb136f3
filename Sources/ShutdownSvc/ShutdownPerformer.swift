import FoundationEssentials
import ProcessSupport
import Logging

/// Carries out an accepted shutdown request. Injected so tests and the demo never power
/// anything off.
public protocol ShutdownPerformer: Sendable {
    func perform(_ request: ShutdownRequest) throws
}

/// Errors from running the shutdown command.
public enum ShutdownPerformerError: Error, Equatable {
    case commandFailed(command: String, status: Int32)
}

/// Runs `systemctl poweroff|reboot|hibernate` (or a configured command with the kind as its
/// last argument), after writing the host's reason to the log and as a wall message, and after
/// the optional hooks (bounded by the host's timeout).
public struct CommandShutdownPerformer: ShutdownPerformer {
    public var executable: String
    public var leadingArguments: [String]
    public var logger: Logger
    /// Hooks run before acting; nil: none.
    public var hooks: ShutdownHookRunner?
    /// `wall` (or nil for no wall message).
    public var wallExecutable: String?

    public init(executable: String = "/usr/bin/systemctl", leadingArguments: [String] = [],
                logger: Logger = Logger(label: "hvagent.shutdown"), hooks: ShutdownHookRunner? = nil,
                wallExecutable: String? = "/usr/bin/wall") {
        self.executable = executable
        self.leadingArguments = leadingArguments
        self.logger = logger
        self.hooks = hooks
        self.wallExecutable = wallExecutable
    }

    /// The wall text for a request.
    public static func wallMessage(for request: ShutdownRequest) -> String {
        "The Hyper-V host requested \(request.kind.rawValue) of this machine"
            + (request.message.isEmpty ? "." : ": \(request.message)")
    }

    public func perform(_ request: ShutdownRequest) throws {
        logger.notice("host requested \(request.kind.rawValue)", metadata: [
            "reason": "0x\(String(request.reasonCode, radix: 16))", "timeout_s": "\(request.timeoutSeconds)",
            "message": "\(request.message)",
        ])
        // Helpers run through BoundedProcess: the daemon blocks SIGTERM for its signalfd, and a child
        // started by Foundation's Process would inherit that mask.
        if let wallExecutable, FileManager.default.isExecutableFile(atPath: wallExecutable) {
            _ = BoundedProcess.run(path: wallExecutable, arguments: [Self.wallMessage(for: request)],
                                   deadline: Date().addingTimeInterval(5))
        }
        if let hooks {
            for result in hooks.run(request, budgetSeconds: ShutdownHookRunner.budget(for: request)) {
                if result.timedOut {
                    logger.warning("shutdown hook \(result.name) killed or skipped at the host's deadline")
                } else if result.status != 0 {
                    logger.warning("shutdown hook \(result.name) failed (status \(result.status.map(String.init) ?? "not started"))")
                }
            }
        }
        let outcome = BoundedProcess.run(path: executable, arguments: leadingArguments + [request.kind.rawValue],
                                         deadline: Date().addingTimeInterval(120), inheritOutput: true)
        guard outcome == .exited(0) else {
            let status: Int32
            switch outcome {
            case .exited(let s): status = s
            case .signalled(let s): status = 128 + s
            case .timedOut: status = -1
            case .failedToStart(let e): status = -Int32(e)
            }
            throw ShutdownPerformerError.commandFailed(
                command: ([executable] + leadingArguments + [request.kind.rawValue]).joined(separator: " "), status: status)
        }
    }
}

/// Logs what would happen and does nothing else (demo, `--dry-run`).
public struct DryRunShutdownPerformer: ShutdownPerformer {
    public var logger: Logger
    public init(logger: Logger = Logger(label: "hvagent.shutdown")) {
        self.logger = logger
    }
    public func perform(_ request: ShutdownRequest) throws {
        logger.notice("dry run: would run systemctl \(request.kind.rawValue)")
    }
}
