import HVProtocol
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
/// late reply and a device reset recover.  Reads block (the device ignores
/// O_NONBLOCK), so an idle daemon makes no system call at all.
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

    /// Whether the front end may sleep: `hvagent kvp-daemon` waits (with back-off) while another
    /// program holds the device and before reopening a device that keeps failing, like a dedicated
    /// daemon should. The integrated agent must never stall its other services: there a failure
    /// leaves the device closed (``descriptor`` is -1) and the caller calls ``reopen()`` after
    /// ``reopenDelayMicroseconds`` from its own timer.
    public var mayBlock = true

    /// Number of registrations completed (first one included).
    public private(set) var registrations = 0

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

    /// Why the front end stopped.
    public enum Failure: Error, CustomStringConvertible {
        case open(path: String, errno: Int32)
        case register(path: String, errno: Int32)
        public var description: String {
            switch self {
            case let .open(p, e): return "open \(p): \(String(cString: strerror(e)))"
            case let .register(p, e): return "registration write to \(p) failed: \(String(cString: strerror(e)))"
            }
        }
    }

    /// The open device, for an event loop to poll (it changes after a reopen; -1 before `start()`).
    public var descriptor: Int32 { fd }

    /// Whether the next message is the kernel's answer to our registration.
    private var inHandshake = true

    /// Opens the device and registers.
    public func start() throws {
        try connect()
        inHandshake = true
    }

    /// Reads one message and answers it (blocks if nothing is waiting: call it when ``descriptor``
    /// is readable). A failed read or write reopens and registers again.
    /// - Returns: whether a request was answered (false for the registration answer and failures).
    @discardableResult
    public func serviceOne() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: KernelMessage.size)
        let n = buffer.withUnsafeMutableBytes { p -> Int in
            guard let base = p.baseAddress else { return -1 }
            return read(fd, base, p.count)
        }
        if n < 0 && errno == EINTR { return false }
        guard n == KernelMessage.size, let message = KernelMessage(bytes: buffer) else {
            failuresInARow += 1
            log("KVP: read failed (\(n < 0 ? String(cString: strerror(errno)) : "\(n) bytes")); reopening \(devicePath)")
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
        let reply = answer(message)
        let w = reply.bytes.withUnsafeBytes { p -> Int in
            guard let base = p.baseAddress else { return -1 }
            return write(fd, base, p.count)
        }
        if w != KernelMessage.size {
            failuresInARow += 1
            log("KVP: write failed (\(w < 0 ? String(cString: strerror(errno)) : "\(w) bytes")); reopening \(devicePath)")
            try reconnect()
        }
        return true
    }

    /// Runs until the device cannot be opened or registration fails; `maxRequests` bounds the loop
    /// for tests (nil = forever). `watching` are other descriptors to serve in the same loop (the
    /// netlink and host-name watchers of the auto pool): with any, the loop polls instead of
    /// blocking in read().
    public func run(maxRequests: Int? = nil, watching: [(descriptor: Int32, onReadable: () -> Void)] = []) throws {
        try start()
        var served = 0
        while maxRequests.map({ served < $0 }) ?? true {
            if !watching.isEmpty {
                var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
                fds += watching.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
                if poll(&fds, nfds_t(fds.count), -1) < 0 { continue } // EINTR
                for (i, w) in watching.enumerated() where fds[i + 1].revents != 0 { w.onReadable() }
                if fds[0].revents == 0 { continue }
            }
            if try serviceOne() { served += 1 }
        }
    }

    /// Decodes, runs and encodes one request (exposed for tests and benches).
    public func answer(_ message: KernelMessage) -> KernelMessage {
        var reply = message
        let status: HResult
        switch message.request() {
        case let .success(request):
            let response = engine.handle(request)
            reply.encodeReply(response, for: request)
            status = response.status
        case let .failure(error):
            reply.encodeReply(.status(error.status), for: nil)
            status = error.status
        }
        if traceRequests {
            log("KVP op \(message.operation) pool \(message.pool): \(status)")
        }
        return reply
    }

    // MARK: - Device

    private func connect() throws {
        var delay: UInt32 = 100_000
        while true {
            let newFD = openDevice()
            if newFD >= 0 {
                fd = newFD
                break
            }
            let e = errno
            // Another program (Ignition/libhvee) holds the device: wait for
            // it instead of exiting like upstream (bug B14).
            guard e == EBUSY, mayBlock else { throw Failure.open(path: devicePath, errno: e) }
            log("KVP: \(devicePath) busy; retrying in \(delay / 1000) ms")
            usleep(delay)
            delay = min(delay * 2, 5_000_000)
        }
        // The registration message is zero-filled (upstream sends stack garbage, B13).
        let reg = KernelMessage(operation: KVPOperation.register1)
        let w = reg.bytes.withUnsafeBytes { p -> Int in
            guard let base = p.baseAddress else { return -1 }
            return write(fd, base, p.count)
        }
        guard w == KernelMessage.size else {
            let e = w < 0 ? errno : EIO
            close(fd)
            fd = -1
            throw Failure.register(path: devicePath, errno: e)
        }
    }

    /// How long to wait before reopening after the failures so far: the first reopen is immediate
    /// (hibernation, a late reply); a device that keeps failing is retried with a growing pause
    /// (0.1 s → 5 s) instead of a busy loop.
    public var reopenDelayMicroseconds: UInt64 {
        failuresInARow > 1 ? min(100_000 << UInt64(min(failuresInARow - 2, 6)), 5_000_000) : 0
    }

    /// Opens and registers again after a failure (the integrated agent's timer calls this). A
    /// failed attempt counts towards the back-off and is thrown.
    public func reopen() throws {
        do {
            try connect()
            inHandshake = true
        } catch {
            failuresInARow += 1
            throw error
        }
    }

    /// Closes, then reopens now or (when it may block) after the back-off pause; when it may not
    /// block and a pause is due, the device stays closed until ``reopen()``.
    private func reconnect() throws {
        if fd >= 0 { close(fd) }
        fd = -1
        let delay = reopenDelayMicroseconds
        if delay > 0 {
            guard mayBlock else { return }
            usleep(UInt32(delay))
        }
        try reopen()
    }
}
