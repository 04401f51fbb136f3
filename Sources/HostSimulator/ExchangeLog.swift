import HVSystem
import HVProtocol
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One line of the host's exchange log.
public struct ExchangeRecord: Codable, Hashable, Sendable {
    /// Seconds since the host started.
    public var time: Double
    /// "heartbeat", "shutdown", "timesync", "kvp", or "host" for control-plane events.
    public var channel: String
    /// "offer", "rescind", "open", "request", "reply", "error".
    public var event: String
    /// IC message type name, when there is one.
    public var type: String?
    /// HRESULT of a reply, as text.
    public var status: String?
    /// Human-readable detail ("seq 41 -> 42", "framework 3.0, service 4.0").
    public var detail: String

    public init(time: Double, channel: String, event: String, type: String? = nil, status: String? = nil, detail: String) {
        self.time = time
        self.channel = channel
        self.event = event
        self.type = type
        self.status = status
        self.detail = detail
    }
}

/// Records every exchange; writes each as a JSON line to an optional file descriptor (not
/// owned: the caller closes it) and hands it to an optional observer (the demo's timeline).
public final class ExchangeLog: @unchecked Sendable {
    private let lock = Mutex(())
    private var stored: [ExchangeRecord] = []
    private let output: Int32?
    private let observer: (@Sendable (ExchangeRecord) -> Void)?
    /// Record times count from here on a monotonic clock, so a clock step by the agent under test
    /// cannot reorder or stretch the log.
    private let start = ContinuousClock.now
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    public init(output: Int32? = nil, observer: (@Sendable (ExchangeRecord) -> Void)? = nil) {
        self.output = output
        self.observer = observer
    }

    public var records: [ExchangeRecord] {
        return lock.withLock { _ in
            return stored
        }
    }

    public func record(channel: String, event: String, type: String? = nil, status: String? = nil, detail: String) {
        let record = ExchangeRecord(
            time: start.duration(to: ContinuousClock.now).seconds, channel: channel, event: event, type: type, status: status, detail: detail)
        lock.withLock { _ in
            stored.append(record)
            if let output, var line = try? encoder.encode(record) {
                line.append(0x0a)
                Self.writeAll(line, to: output)
            }
        }
        observer?(record)
    }

    /// Writes the whole line (a pipe or terminal may take it in parts); a closed reader drops it.
    private static func writeAll(_ line: Data, to descriptor: Int32) {
        line.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = retryingOnInterrupt { write(descriptor, raw.baseAddress.map { $0 + done }, raw.count - done) }
                guard n > 0 else { return }
                done += n
            }
        }
    }
}

extension HResult {
    /// How the exchange log names a status: `S_OK`, `E_FAIL`, else the hex value. The host's own
    /// naming (Windows style), kept apart from the guest's `HV_*` names so a log reader sees what a
    /// Hyper-V host would report.
    var logText: String {
        switch self {
        case .ok: "S_OK"
        case .fail: "E_FAIL"
        default: "0x" + String(rawValue, radix: 16, uppercase: true)
        }
    }
}
