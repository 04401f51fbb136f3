import HVProtocol
import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// Serves the KVP engine over the kernel's /dev/vmbus/hv_kvp, as a drop-in
/// for hv_kvp_daemon (docs/PROTOCOL.md §7.9-§7.12).
///
/// Protocol: write one 7432-byte message with operation 100 to register,
/// consume the kernel's answer (operation 100, version "3.1") silently, then
/// answer one 7432-byte message per read, in place.  A read that is not
/// exactly one message, or a failed write, makes us close, reopen and
/// register again, like upstream (docs/PROTOCOL.md §7.11): that is how hibernation, a 30-s
/// late reply and a device reset recover.
///
/// It never waits by itself, so it can share one event loop with everything
/// else: the loop polls ``descriptor`` and calls ``serviceOne()`` when it is
/// readable (the device ignores O_NONBLOCK, so a read without data would
/// block). When the device cannot be opened (EBUSY: another program such as
/// Ignition holds it, docs/COMPATIBILITY.md B14) or keeps failing, ``descriptor`` is -1 and the
/// loop calls ``reopen()`` from a timer after ``reopenDelayMicroseconds``.
public final class KernelDeviceFrontEnd {
    /// Default device path.
    public static let defaultDevicePath = "/dev/vmbus/hv_kvp"

    public let engine: KVPEngine
    public let devicePath: String
    /// Opens the device; injectable for tests (socketpair).
    private let openDevice: () -> Int32
    private var log: (String) -> Void
    private var fd: Int32 = -1
    /// Device failures since the last whole message; drives the back-off.
    private var failuresInARow = 0

    /// Log every request and its status (`-d`, like hv_kvp_daemon --debug).
    public var traceRequests = false

    /// Number of registrations completed (first one included).
    public private(set) var registrations = 0

    /// Bumped by every open: a held reply (SET_IP_INFO) for an earlier connection is not sent, the
    /// kernel has long answered that transaction itself.
    private var connection = 0

    /// Called when a held reply could not be written and the device could not be reopened at once:
    /// the owner arms its reopen timer, as after a failed ``serviceOne()``.
    public var onDeviceLost: (String) -> Void = { _ in }

    public init(engine: KVPEngine, devicePath: String = KernelDeviceFrontEnd.defaultDevicePath,
                log: @escaping (String) -> Void, openDevice: (() -> Int32)? = nil) {
        self.engine = engine
        self.devicePath = devicePath
        self.log = log
        self.openDevice = openDevice ?? { open(devicePath, O_RDWR | O_CLOEXEC) }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// The open device, for an event loop to poll (it changes after a reopen; -1 before `start()`).
    public var descriptor: Int32 { fd }

    /// Whether the next message is the kernel's answer to our registration.
    private var inHandshake = true

    /// Opens the device and registers: the first ``reopen()``. A failure (EBUSY included) is
    /// thrown, leaves ``descriptor`` at -1 and counts towards ``reopenDelayMicroseconds``.
    public func start() throws(SystemCallError) {
        try reopen()
    }

    /// Reads one message and answers it (blocks if nothing is waiting: call it when ``descriptor``
    /// is readable). A failed read or write closes the device and reopens it at once the first time;
    /// after more failures in a row it stays closed (``descriptor`` is -1) for the caller's
    /// ``reopen()`` after ``reopenDelayMicroseconds``.
    /// - Returns: whether a request was answered (false for the registration answer and failures).
    /// - Throws: when the immediate reopen failed (``descriptor`` is then -1).
    @discardableResult
    public func serviceOne() throws(SystemCallError) -> Bool {
        var buffer = [UInt8](repeating: 0, count: KernelMessage.size)
        let n = buffer.withUnsafeMutableBytes { p -> Int in
            guard let base = p.baseAddress else { return -1 }
            return retryingOnInterrupt { read(fd, base, p.count) }
        }
        guard n == KernelMessage.size, let message = KernelMessage(bytes: buffer) else {
            let what = n < 0 ? Errno.current.description : "\(n) bytes"
            failuresInARow += 1
            log("KVP: read failed (\(what)); reopening \(devicePath)")
            try reconnect()
            return false
        }
        failuresInARow = 0
        if inHandshake && message.operation == KVPOperation.register1 {
            // The kernel's answer to our registration: stash the version.
            inHandshake = false
            engine.integrationServicesVersion = message.registrationVersion
            registrations += 1
            log("KVP LIC Version: \(message.registrationVersion)")
            return false
        }
        guard let reply = answerOrHold(message) else { return true }
        try send(reply)
        return true
    }

    private func send(_ reply: KernelMessage) throws(SystemCallError) {
        let w = reply.bytes.withUnsafeBytes { p -> Int in
            guard let base = p.baseAddress else { return -1 }
            return retryingOnInterrupt { write(fd, base, p.count) }
        }
        if w != KernelMessage.size {
            let what = w < 0 ? Errno.current.description : "\(w) bytes"
            failuresInARow += 1
            log("KVP: write failed (\(what)); reopening \(devicePath)")
            try reconnect()
        }
    }

    /// The reply now, or nil when the engine answers later (SET_IP_INFO): the kernel sends nothing
    /// else until it has the reply (one transaction at a time), so at most one is held.
    private func answerOrHold(_ message: KernelMessage) -> KernelMessage? {
        guard case let .success(request) = message.request() else { return answer(message) }
        let held = connection
        let response = engine.handle(request) { [weak self] response in
            guard let self, self.connection == held, self.fd >= 0 else { return }
            do {
                try self.send(self.encoded(message, response, for: request))
            } catch {
                self.onDeviceLost("\(error)")
            }
            if self.fd < 0 { self.onDeviceLost("\(self.devicePath) keeps failing") }
        }
        return response.map { encoded(message, $0, for: request) }
    }

    /// Decodes, runs and encodes one request at once (exposed for tests and benches).
    public func answer(_ message: KernelMessage) -> KernelMessage {
        switch message.request() {
        case let .success(request): encoded(message, engine.handle(request), for: request)
        case let .failure(error): encoded(message, .status(error.status), for: nil)
        }
    }

    private func encoded(_ message: KernelMessage, _ response: KVPResponse, for request: KVPRequest?) -> KernelMessage {
        var reply = message
        reply.encodeReply(response, for: request)
        if traceRequests {
            log("KVP op \(message.operation) pool \(message.pool): \(response.status)")
        }
        return reply
    }

    // MARK: - Device

    /// One open and registration, no waiting: another program holding the device (EBUSY, B14)
    /// is a failure like any other, retried by the caller after the back-off instead of making
    /// the daemon exit like upstream.
    private func connect() throws(SystemCallError) {
        let newFD = retryingOnInterrupt { openDevice() }
        guard newFD >= 0 else { throw SystemCallError(call: "open", path: devicePath, errno: .current) }
        fd = newFD
        connection += 1
        // The registration message is zero-filled (upstream sends stack garbage, B13).
        let reg = KernelMessage(operation: KVPOperation.register1)
        let w = reg.bytes.withUnsafeBytes { p -> Int in
            guard let base = p.baseAddress else { return -1 }
            return retryingOnInterrupt { write(fd, base, p.count) }
        }
        guard w == KernelMessage.size else {
            let failure: Errno = w < 0 ? .current : .ioError
            close(fd)
            fd = -1
            throw SystemCallError(call: "registration write", path: devicePath, errno: failure)
        }
    }

    /// How long to wait before reopening after the failures so far: the first reopen is immediate
    /// (hibernation, a late reply); a device that keeps failing, or stays busy, is retried with a
    /// growing pause (0.1 s → 5 s) instead of a busy loop.
    public var reopenDelayMicroseconds: UInt64 {
        failuresInARow > 1 ? min(100_000 << UInt64(min(failuresInARow - 2, 6)), 5_000_000) : 0
    }

    /// Opens and registers again after a failure (the caller's timer calls this after
    /// ``reopenDelayMicroseconds``). A failed attempt counts towards the back-off and is thrown.
    public func reopen() throws(SystemCallError) {
        do {
            try connect()
            inHandshake = true
        } catch {
            failuresInARow += 1
            throw error
        }
    }

    /// Closes, then reopens at once when no pause is due; otherwise the device stays closed until
    /// the caller's ``reopen()``.
    private func reconnect() throws(SystemCallError) {
        if fd >= 0 { close(fd) }
        fd = -1
        if reopenDelayMicroseconds == 0 { try reopen() }
    }
}
