import Foundation
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
/// last argument), after writing the host's reason to the log.
public struct CommandShutdownPerformer: ShutdownPerformer {
    public var executable: String
    public var leadingArguments: [String]
    public var logger: Logger

    public init(executable: String = "/usr/bin/systemctl", leadingArguments: [String] = [],
                logger: Logger = Logger(label: "hvagent.shutdown")) {
        self.executable = executable
        self.leadingArguments = leadingArguments
        self.logger = logger
    }

    public func perform(_ request: ShutdownRequest) throws {
        logger.notice("host requested \(request.kind.rawValue)", metadata: [
            "reason": "0x\(String(request.reasonCode, radix: 16))", "timeout_s": "\(request.timeoutSeconds)",
            "message": "\(request.message)",
        ])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = leadingArguments + [request.kind.rawValue]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ShutdownPerformerError.commandFailed(
                command: ([executable] + leadingArguments + [request.kind.rawValue]).joined(separator: " "),
                status: process.terminationStatus)
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
