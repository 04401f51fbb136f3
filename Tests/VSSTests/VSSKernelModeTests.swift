import AgentConfig
import AgentCore
import Foundation
import Testing
@testable import VSS

/// Kernel mode on a VM whose host does not offer Backup (no `/dev/vmbus/hv_vss`): VSS is on by
/// default, so the agent must not wake to look for the device — it waits for a kernel uevent
/// (hv_utils creates the device while it binds the Backup channel), and its retry timer stays
/// disarmed.
@Suite struct VSSKernelModeTests {
    static func kind(of fd: Int32) -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
    }

    @Test func missingDeviceWaitsForAUEventNotATimer() throws {
        let dir = NSTemporaryDirectory() + "vss-kernel-mode-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var settings = AgentSettings()
        try settings.override("vss.device=\(dir)/hv_vss")
        try settings.override("vss.frozen_list=\(dir)/vss-frozen")
        let service = try VSSAgentService(settings: settings)
        let inputs = try service.kernelModeInputs(events: ServiceEvents(service: .vss, observer: nil))
        let descriptors = inputs.map { $0.descriptor() }.filter { $0 >= 0 }
        let timers = descriptors.filter { Self.kind(of: $0) == "anon_inode:[timerfd]" }
        try #require(timers.count == 1)
        // The kernel's view of the timer (proc(5), /proc/PID/fdinfo of a timerfd): `it_value: (0, 0)` is disarmed.
        let info = try String(contentsOfFile: "/proc/self/fdinfo/\(timers[0])", encoding: .utf8)
        #expect(info.contains("it_value: (0, 0)"), "the retry timer is armed: \(info)")
        // The uevent socket (NETLINK_KOBJECT_UEVENT) is what it waits on.
        #expect(descriptors.contains { Self.kind(of: $0).hasPrefix("socket:") })
    }
}
