import HVSystem
import AgentCore
import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Serves backups through the kernel's `/dev/vmbus/hv_vss` (kernel mode, a drop-in for
/// `hv_vss_daemon -n`; docs/PROTOCOL.md §6.5.6).
///
/// Open, write REGISTER1, read the kernel's 4-byte 129, then for each 12-byte request answer one
/// 12-byte reply whose first four bytes are the HRESULT. FREEZE and THAW are answered when the
/// coordinator's work is done; the loop keeps running meanwhile. A failed read or write (the
/// kernel timed out the request, hibernation's fake THAW, the device went away) thaws whatever
/// is frozen and reopens the device from the loop's timer, never by sleeping.
public final class VSSDeviceFrontEnd {
    public static let defaultDevicePath = "/dev/vmbus/hv_vss"

    public let devicePath: String
    private let coordinator: VSSCoordinator
    private let openDevice: () -> Int32
    private let log: (String) -> Void
    private var fd: Int32 = -1
    private var inHandshake = true
    /// Bumped at every reopen: an answer for a request of an older open is not written.
    private var generation = 0
    /// Completed registrations.
    public private(set) var registrations = 0
    /// Requests answered.
    public private(set) var answered = 0

    public init(coordinator: VSSCoordinator, devicePath: String = VSSDeviceFrontEnd.defaultDevicePath,
                log: @escaping (String) -> Void, openDevice: (() -> Int32)? = nil) {
        self.coordinator = coordinator
        self.devicePath = devicePath
        self.log = log
        self.openDevice = openDevice ?? { open(devicePath, O_RDWR | O_CLOEXEC) }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// The open device (-1 while closed), for the loop to poll.
    public var descriptor: Int32 { fd }

    /// Opens and registers (REGISTER1).
    public func start() throws(SystemCallError) {
        closeDevice()
        let opened = openDevice()
        guard opened >= 0 else { throw SystemCallError(call: "open", path: devicePath, errno: .current) }
        fd = opened
        let registration = VSSDeviceMessage.registration()
        guard writeAll(registration) else {
            let error = Errno.current
            closeDevice()
            throw SystemCallError(call: "registration write", path: devicePath, errno: error)
        }
        inHandshake = true
    }

    /// The device is readable: the registration answer or one request.
    public func handleReadable() {
        guard fd >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = retryingOnInterrupt { buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
        if n < 0 && errno == EAGAIN { return }
        guard n > 0 else {
            deviceFailed(n == 0 ? "end of file" : "read: \(Errno.current)")
            return
        }
        let message = Array(buffer[..<n])
        if inHandshake {
            guard VSSDeviceMessage.isRegistrationReply(message) else {
                deviceFailed("unexpected registration answer of \(n) bytes")
                return
            }
            inHandshake = false
            registrations += 1
            log("registered with \(devicePath)")
            return
        }
        guard let operation = VSSDeviceMessage.request(message) else {
            deviceFailed("request of \(n) bytes (12 expected)")
            return
        }
        let generation = self.generation
        let answer: (HResult) -> Void = { [weak self] status in
            guard let self, self.generation == generation, self.fd >= 0 else { return }
            self.answered += 1
            if !self.writeAll(VSSDeviceMessage.reply(status)) {
                // The kernel gave up on this request (its timeout) or is resetting: like
                // hv_vss_daemon, thaw and register again (COMPATIBILITY.md).
                self.deviceFailed("reply write: \(Errno.current)")
            }
        }
        switch operation {
        case .hotBackup:
            // The kernel cannot carry the flags (defect V1): only the status matters here.
            answer(coordinator.readyForBackup ? .ok : .fail)
        case .freeze: coordinator.freeze(reply: answer)
        case .thaw: coordinator.thaw(reply: answer)
        default:
            log("\(operation) from the kernel: answered S_OK, nothing to do")
            answer(.ok)
        }
    }

    /// Closes the device after a failure and thaws: the caller reopens it (``start()``) later.
    private func deviceFailed(_ reason: String) {
        log("\(devicePath): \(reason); thawing and registering again")
        closeDevice()
        coordinator.abandon(reason: "device \(reason)")
    }

    private func closeDevice() {
        generation += 1
        if fd >= 0 { close(fd) }
        fd = -1
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        retryingOnInterrupt { bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } } == bytes.count
    }
}
