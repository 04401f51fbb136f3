import FoundationEssentials
import ProcessSupport

/// The administrator's backup hooks: every executable regular file in `/etc/hvagent/vss.d`
/// (configurable), run with one argument, `freeze` in name order before the filesystems freeze,
/// `thaw` in reverse order after they thaw, `freeze-fail` (reverse order, only the hooks whose
/// `freeze` already ran) when a freeze is abandoned (docs/PROTOCOL.md §6.5.7; the model is
/// open-vm-tools' backupScripts.d and qemu-ga's fsfreeze-hook, which hv_vss_daemon lacks: V4).
///
/// Each hook is bounded by its own timeout and by the caller's deadline; output goes to /dev/null
/// because while filesystems are frozen nothing of hvagent may write to a disk.
public struct VSSHookRunner: Sendable {
    public struct Result: Hashable, Sendable {
        public var name: String
        public var outcome: BoundedProcess.Outcome
        public var succeeded: Bool { outcome == .exited(0) }

        public var description: String {
            switch outcome {
            case .exited(let status): "\(name) exited with status \(status)"
            case .signalled(let signal): "\(name) was killed by signal \(signal)"
            case .timedOut: "\(name) timed out and was killed"
            case .failedToStart(let error): "\(name) could not start (errno \(error))"
            }
        }
    }

    public var directory: String
    public var timeoutSeconds: Double

    public init(directory: String, timeoutSeconds: Double) {
        self.directory = directory
        self.timeoutSeconds = timeoutSeconds
    }

    /// The hooks present, in name order (dot files and non-executables ignored).
    public func hooks() -> [String] {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory) else { return [] }
        return names.sorted().filter { name in
            guard Self.isCandidate(name) else { return false }
            var isDirectory = false
            let path = directory + "/" + name
            return manager.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory && manager.isExecutableFile(atPath: path)
        }
    }

    /// Whether a directory entry's name can be a hook (dot files and editor backups `~` are not);
    /// it must also be an executable regular file.
    public static func isCandidate(_ name: String) -> Bool { !name.hasPrefix(".") && !name.hasSuffix("~") }

    /// Runs `names` in the given order with `argument`; stops at the first failure when
    /// `stopOnFailure`. Returns one result per hook run.
    public func run(_ names: [String], argument: String, deadline: Date, stopOnFailure: Bool) -> [Result] {
        var results: [Result] = []
        for name in names {
            let own = Date().addingTimeInterval(timeoutSeconds)
            let outcome = BoundedProcess.run(path: directory + "/" + name, arguments: [argument],
                                             environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HVAGENT_VSS_OPERATION": argument],
                                             deadline: min(own, deadline))
            let result = Result(name: name, outcome: outcome)
            results.append(result)
            if stopOnFailure && !result.succeeded { break }
        }
        return results
    }
}
