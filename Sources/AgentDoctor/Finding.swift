/// One result of a doctor check: what was found, how bad it is, and the command that fixes it.
public struct Finding: Equatable, Sendable, Encodable {
    public enum Severity: String, Sendable, Encodable, Comparable {
        case ok, info, warning, error
        var rank: Int { ["ok": 0, "info": 1, "warning": 2, "error": 3][rawValue] ?? 0 }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    /// Stable identifier for scripts (`hyperv.detected`, `module.hv_vmbus`, ...).
    public var id: String
    public var severity: Severity
    public var message: String
    /// A command that fixes it, when there is one.
    public var fix: String?

    public init(_ id: String, _ severity: Severity, _ message: String, fix: String? = nil) {
        self.id = id
        self.severity = severity
        self.message = message
        self.fix = fix
    }
}
