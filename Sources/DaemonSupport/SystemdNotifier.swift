#if canImport(Glibc)
import Glibc
#endif

/// sd_notify(3) without libsystemd: datagrams to `$NOTIFY_SOCKET` (a path, or an abstract socket
/// when it starts with `@`). Without the variable (not started by systemd, or Type=simple) every call
/// does nothing, so the daemon needs no special case.
public final class SystemdNotifier: @unchecked Sendable {
    private let address: sockaddr_un?
    private let addressLength: socklen_t
    private let socketFD: Int32

    /// Watchdog interval systemd asked for (`$WATCHDOG_USEC`, honoured only when `$WATCHDOG_PID` is
    /// absent or ours); ping at half of it.
    public let watchdogMicroseconds: UInt64?

    public init(environment: [String: String]) {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var length: socklen_t = 0
        var ok = false
        if let path = environment["NOTIFY_SOCKET"], !path.isEmpty, path.utf8.count < MemoryLayout.size(ofValue: addr.sun_path) {
            var bytes = Array(path.utf8)
            if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 } // abstract namespace
            withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
            length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
            ok = true
        }
        address = ok ? addr : nil
        addressLength = length
        socketFD = ok ? socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) : -1
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0,
            environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true {
            watchdogMicroseconds = usec
        } else {
            watchdogMicroseconds = nil
        }
    }

    /// Convenience: the process environment.
    public convenience init() {
        var env: [String: String] = [:]
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let v = getenv(key) { env[key] = String(cString: v) }
        }
        self.init(environment: env)
    }

    deinit {
        if socketFD >= 0 { close(socketFD) }
    }

    public var isActive: Bool { address != nil && socketFD >= 0 }

    /// Sends one notification (e.g. `READY=1`, `STATUS=...`, `WATCHDOG=1`, `STOPPING=1`,
    /// `RELOADING=1`). Returns false if it could not be sent (logged by the caller if it matters).
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard var address, socketFD >= 0 else { return false }
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { sendto(socketFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, addressLength) }
            }
        }
        return sent == bytes.count
    }
}
