import AgentCore
import DaemonSupport
import HVProtocol
import ICFramework
import Logging

/// File copy's entry in the daemon's service table (docs/ARCHITECTURE.md, "The service table"):
/// over hvagent's ring in uio mode (kernels from 6.10, where Linux itself runs
/// hv_fcopy_uio_daemon), through `/dev/vmbus/hv_fcopy` in kernel mode (older kernels).
///
/// Each channel open gets a fresh engine, so a copy never survives a close, rescind or re-offer.
public final class FileCopyAgentService: AgentService {
    public let id = ICServiceID.fcopy
    public let policy: FileCopyPolicy
    /// The kernel's device (kernel mode).
    public let devicePath: String
    private let logger: Logger

    public init(policy: FileCopyPolicy = FileCopyPolicy(), devicePath: String = FileCopyKernelDevice.defaultDevicePath,
                logger: Logger = Logger(label: "hvagent")) {
        self.policy = policy
        self.devicePath = devicePath
        self.logger = logger
    }

    public func channelHandler(events: ServiceEvents) -> any ICChannelHandler {
        ServiceChannelHandler(FileCopyICService(engine: FileCopyEngine(policy: policy)), events: events, observe: { _, service in
            for report in service.engine.takeReports() { events.activity(report) }
        })
    }

    /// Kernel mode: the device in the same loop. It exists only while hv_utils holds the fcopy
    /// channel (Guest Services enabled on a kernel before 6.10), so a missing or failing device is
    /// looked for again every 10 s, logged once per distinct reason.
    public func kernelModeInputs(events: ServiceEvents) throws -> [PollInput] {
        let device = FileCopyKernelDevice(path: devicePath, engine: FileCopyEngine(policy: policy))
        let retry = try LoopTimer()
        let logger = logger
        var lastReason: String?
        func failed(_ reason: String) {
            device.close()
            flush()
            events.emit(.channelClosed(.fcopy, reason: reason))
            if reason != lastReason { logger.warning("fcopy: \(reason); trying again every 10 s") }
            lastReason = reason
            try? retry.arm(afterMicroseconds: 10_000_000)
        }
        func flush() {
            for report in device.engine.takeReports() { events.activity(report) }
        }
        func open() {
            do {
                try device.open()
                lastReason = nil
                events.emit(.channelOpened(.fcopy))
            } catch {
                failed("\(error)")
            }
        }
        open()
        return [
            PollInput(currentDescriptor: { device.descriptor }) {
                do {
                    if let status = try device.serviceOne() {
                        events.emit(.packet(.fcopy, .handled(type: .fcopy, status: status)))
                    }
                    flush()
                } catch {
                    failed("\(error)")
                }
            },
            PollInput(descriptor: retry.descriptor) {
                retry.acknowledge()
                open()
            },
        ]
    }
}
