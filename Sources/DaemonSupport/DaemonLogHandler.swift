import HVSystem
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The log level every logger of the process uses, in one place, so that a configuration reload
/// changes it for all of them at once.
public final class LogLevelSetting: Sendable {
    private let level: Mutex<Logger.Level>

    public init(_ level: Logger.Level = .info) {
        self.level = Mutex(level)
    }

    public var value: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}

/// The daemon's swift-log handler.
///
/// Under systemd, standard error is a stream into journald, which files every line at priority
/// "info" and stamps it with its own time. Written as swift-log's usual
/// `2026-12-06T16:14:38+0000 error label : [source] text`, a failure would be invisible to
/// `journalctl -p err` and carry two timestamps. When standard error is journald's stream (systemd
/// says so in `JOURNAL_STREAM`, the stream's device:inode, see systemd.exec(5)), each line is
/// written as `<priority>text` instead (sd-daemon(3)), which journald parses into the entry's
/// priority. Anywhere else the handler writes swift-log's stream format, with the logger's label
/// as the bracketed source: the modules a line comes from are an implementation detail (the
/// daemon's wiring lives in a library module), the label is the name a reader knows.
public struct DaemonLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let setting: LogLevelSetting
    private let journal: Bool
    private var stream: StreamLogHandler
    private let label: String

    /// `journal`: write `<priority>` lines to standard error (see ``JournalStream``).
    public init(label: String, level: LogLevelSetting, journal: Bool) {
        self.setting = level
        self.journal = journal
        self.stream = StreamLogHandler.standardError(label: label)
        self.label = label
    }

    /// The level is the shared setting's: setting it on one logger sets it for the process.
    public var logLevel: Logger.Level {
        get { setting.value }
        set { setting.value = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // hvagent has filesystems frozen: hold the line in memory (FreezeWindow, V2).
        if FreezeWindow.shared.isOpen, FreezeWindow.shared.hold(heldText(event)) { return }
        guard journal else {
            var stream = self.stream
            stream.metadata = metadata
            stream.metadataProvider = metadataProvider
            var named = event
            named.source = label
            stream.log(event: named)
            return
        }
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var text = Self.journalLines(level: event.level, message: event.message.description, metadata: merged)
        text.withUTF8 { bytes in
            var rest = UnsafeRawBufferPointer(bytes)
            while !rest.isEmpty {
                let n = retryingOnInterrupt { write(2, rest.baseAddress, rest.count) }
                if n <= 0 { return }  // nowhere to log to: nothing better to do
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            }
        }
    }

    /// The text a held record is written as after thaw: the journal's `<N>` lines, or swift-log's
    /// stream format (`timestamp level label : metadata [label] message`) with the time it was logged.
    private func heldText(_ event: LogEvent) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        if journal { return Self.journalLines(level: event.level, message: event.message.description, metadata: merged) }
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        let stamp = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let meta = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(stamp) \(event.level) \(label) :\(meta) [\(label)] \(event.message)\n"
    }

    /// syslog(3) priorities, as journald reads them from a `<N>` prefix.
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The text journald receives for one message: every line prefixed with the priority (a line
    /// is an entry to journald), metadata sorted after the message in parentheses.
    public static func journalLines(level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        let prefix = "<\(syslogPriority(level))>"
        var text = message
        if !metadata.isEmpty {
            text += " (" + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + ")"
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 + "\n" }.joined()
    }
}

/// Whether a descriptor is the journald stream systemd connected it to.
public enum JournalStream {
    /// systemd sets `JOURNAL_STREAM=DEVICE:INODE` for the stream it connected standard output or
    /// error to; a program checks it against `fstat` of the descriptor, since a shell redirection
    /// can replace the descriptor while the variable is inherited.
    public static func matches(_ value: String?, descriptor: Int32) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(descriptor, &st) == 0 else { return false }
        return UInt64(st.st_dev) == device && UInt64(st.st_ino) == inode
    }

    /// Standard error is journald's stream.
    public static var isStandardError: Bool {
        matches(getenv("JOURNAL_STREAM").map { String(cString: $0) }, descriptor: 2)
    }
}
