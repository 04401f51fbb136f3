import FoundationEssentials
import ProcessSupport

/// Runs the administrator's hooks before a shutdown: every executable regular file in a
/// directory, in name order, with the request in the environment (HVAGENT_SHUTDOWN_KIND,
/// HVAGENT_SHUTDOWN_REASON, HVAGENT_SHUTDOWN_MESSAGE). All hooks together get the time the
/// host allows; a hook still running at the deadline is killed, and the rest are skipped.
public struct ShutdownHookRunner: Sendable {
    public struct Result: Hashable, Sendable {
        public var name: String
        /// Exit status; nil if the hook was killed or could not start.
        public var status: Int32?
        public var timedOut: Bool

        public init(name: String, status: Int32?, timedOut: Bool) {
            self.name = name
            self.status = status
            self.timedOut = timedOut
        }
    }

    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The hook budget for a request: the host's timeout less a second for the shutdown itself,
    /// or `fallbackSeconds` when the host gives none (openvmm sends 0).
    public static func budget(for request: ShutdownRequest, fallbackSeconds: Double = 30) -> Double {
        request.timeoutSeconds > 1 ? Double(request.timeoutSeconds) - 1 : fallbackSeconds
    }

    public func run(_ request: ShutdownRequest, budgetSeconds: Double) -> [Result] {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory) else { return [] }
        let deadline = Date().addingTimeInterval(budgetSeconds)
        var results: [Result] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = directory + "/" + name
            var isDirectory = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory,
                  manager.isExecutableFile(atPath: path) else { continue }
            guard deadline.timeIntervalSinceNow > 0 else {
                results.append(Result(name: name, status: nil, timedOut: true))
                continue
            }
            results.append(runOne(name: name, path: path, request: request, deadline: deadline))
        }
        return results
    }

    private func runOne(name: String, path: String, request: ShutdownRequest, deadline: Date) -> Result {
        var environment = ProcessInfo.processInfo.environment
        environment["HVAGENT_SHUTDOWN_KIND"] = request.kind.rawValue
        environment["HVAGENT_SHUTDOWN_REASON"] = "0x" + String(request.reasonCode, radix: 16)
        environment["HVAGENT_SHUTDOWN_MESSAGE"] = request.message
        switch BoundedProcess.run(path: path, environment: environment, deadline: deadline) {
        case .exited(let status): return Result(name: name, status: status, timedOut: false)
        case .timedOut: return Result(name: name, status: nil, timedOut: true)
        case .signalled, .failedToStart: return Result(name: name, status: nil, timedOut: false)
        }
    }
}
