import AgentConfig
import HVProtocol

/// How hvagent serves one integration service (docs/PROTOCOL.md §3, issue "mode selection").
public enum ServiceMode: String, Sendable, Codable {
    /// hvagent owns the channel through uio_hv_generic and serves it over its own ring.
    case uio
    /// hv_utils keeps the channel; KVP is served through `/dev/vmbus/hv_kvp`, time comes from the
    /// kernel's `hyperv` PTP clock, heartbeat and shutdown are the kernel's and only reported.
    case kernel
}

/// A kernel release as `uname -r` prints it (`6.10.0-12-amd64`, `5.15.0-1034-azure`).
public struct KernelRelease: Comparable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(major: Int, minor: Int, patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses the leading `X.Y[.Z]`; `nil` if there is none.
    public init?(_ text: String) {
        let head = text.prefix { $0.isNumber || $0 == "." }
        let parts = head.split(separator: ".").map { Int($0) }
        guard parts.count >= 2, let major = parts[0], let minor = parts[1] else { return nil }
        self.init(major: major, minor: minor, patch: parts.count > 2 ? (parts[2] ?? 0) : 0)
    }

    public static func < (a: KernelRelease, b: KernelRelease) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    /// The first mainline series whose uio_hv_generic signals the host on `write()` for channels
    /// without a monitor page (commit 547fa4ffd799). Before it, replies are never signalled.
    public static let uioSignalsHost = KernelRelease(major: 6, minor: 10)
}

/// The decision for one service, with the reason shown at start-up and by `doctor`.
public struct ModeDecision: Equatable, Sendable {
    public var service: ICServiceID
    /// `nil` when the service cannot run at all with the given preference.
    public var mode: ServiceMode?
    public var reason: String

    public init(service: ICServiceID, mode: ServiceMode?, reason: String) {
        self.service = service
        self.mode = mode
        self.reason = reason
    }
}

/// Picks uio or kernel mode per service.
public struct ModeSelector: Sendable {
    public var kernel: KernelRelease?
    /// Set when the distribution backported 547fa4ffd799 to an older series.
    public var assumeUIOSignalling: Bool
    /// Why this VM is confidential (``ConfidentialGuest``), or nil: file copy is never served there.
    public var confidentialGuest: String?

    public init(kernel: KernelRelease?, assumeUIOSignalling: Bool = false, confidentialGuest: String? = nil) {
        self.kernel = kernel
        self.assumeUIOSignalling = assumeUIOSignalling
        self.confidentialGuest = confidentialGuest
    }

    /// Whether uio_hv_generic on this kernel can carry an integration service.
    public var kernelSupportsUIO: Bool {
        assumeUIOSignalling || (kernel.map { $0 >= KernelRelease.uioSignalsHost } ?? false)
    }

    /// Decides for what the configuration asks (`AgentSettings.mode(of:)`). Callers that report
    /// "off" differently from "cannot run" check for ``ServiceModeChoice/off`` first; deciding it
    /// gives no mode.
    public func decide(_ service: ICServiceID, preference: ServiceModeChoice, device: VMBusDevice?) -> ModeDecision {
        let name = service.rawValue
        func decision(_ mode: ServiceMode?, _ reason: String) -> ModeDecision { ModeDecision(service: service, mode: mode, reason: reason) }
        let kernelText = kernel?.description ?? "unknown"
        // The host is not trusted on a confidential VM; Linux refuses this offer there too.
        if service == .fcopy, preference != .off, let confidentialGuest {
            return decision(nil, "never served on a confidential VM (\(confidentialGuest))")
        }
        switch preference {
        case .off:
            return decision(nil, "off in the configuration")
        case .kernel:
            return decision(.kernel, "kernel mode forced by configuration")
        case .uio:
            guard kernelSupportsUIO else {
                return decision(nil, "uio forced, but kernel \(kernelText) predates uio_hv_generic host signalling (6.10, commit 547fa4ffd799); set the backport option if your kernel has it")
            }
            guard let device else { return decision(nil, "uio forced, but the host offers no \(name) device") }
            if device.monitorAllocated { return decision(nil, "uio forced, but the \(name) channel is monitor-allocated: uio write() would not signal the host") }
            return decision(.uio, "uio forced by configuration")
        case .auto:
            // Backups stay with hv_utils where it has the device: kernel mode through
            // /dev/vmbus/hv_vss keeps hv_vss_daemon a working fallback whenever hvagent is not
            // running, and uio would gain only the HOT_BACKUP flags (COMPATIBILITY.md V1, "auto").
            if service == .vss, device?.driver == ICServiceID.vss.deviceClass.kernelDriver {
                return decision(.kernel, "hv_utils owns the \(name) device: served through /dev/vmbus/hv_vss")
            }
            guard kernelSupportsUIO else {
                return decision(.kernel, "kernel \(kernelText) predates uio_hv_generic host signalling (6.10)")
            }
            guard let device else { return decision(.kernel, "the host offers no \(name) device") }
            if device.monitorAllocated { return decision(.kernel, "monitor-allocated channel") }
            return decision(.uio, "kernel \(kernelText) signals the host on uio write")
        }
    }
}
