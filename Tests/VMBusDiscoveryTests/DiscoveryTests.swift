import Foundation
import Testing
import AgentConfig
import HVSystem
import RingTransport
@testable import VMBusDiscovery
import TestSupport
import HVProtocol

@Suite("VMBus discovery on a fake sysfs tree")
struct DiscoveryTests {
    /// One device of every class in the table of docs/PROTOCOL.md §4.1, plus one unknown class.
    func seededTree() throws -> FakeVMBusSysfs {
        let fake = try FakeVMBusSysfs()
        for (i, c) in VMBusDeviceClass.all.enumerated() {
            try fake.addDevice(instance: String(format: "%08x-1111-4222-8333-444455556666", i + 1), classID: c.classID.description,
                               relID: i + 1, driver: c.kernelDriver, monitor: c.name == "netvsc", cpu: i % 2)
        }
        try fake.addDevice(instance: "deadbeef-1111-4222-8333-444455556666", classID: "00112233-4455-6677-8899-aabbccddeeff", relID: 40, driver: nil)
        return fake
    }

    @Test func classTableIsWellFormed() {
        #expect(VMBusDeviceClass.all.count == 19)
        #expect(Set(VMBusDeviceClass.all.map(\.classID)).count == 19)
        #expect(!VMBusDeviceClass.all.contains { $0.classID == .null })
        #expect(ICServiceID.allCases.map(\.rawValue) == ["heartbeat", "shutdown", "timesync", "kvp", "fcopy", "vss"])
    }

    @Test func discoversEveryClass() throws {
        let fake = try seededTree()
        let devices = VMBusDiscovery(sysfs: fake).devices()
        #expect(devices.count == 20)
        for (i, c) in VMBusDeviceClass.all.enumerated() {
            let d = try #require(devices.first { $0.relID == i + 1 })
            #expect(d.deviceClass == c)
            #expect(d.driver == c.kernelDriver)
            #expect(d.monitorAllocated == (c.name == "netvsc"))
            #expect(d.channelCPUs.map(\.cpu) == [i % 2])
            #expect(d.deviceID == d.instanceID)
        }
        #expect(devices.last?.deviceClass == nil)
        #expect(devices.last?.className == "unknown")
    }

    @Test func malformedEntriesAreSkippedNotGuessed() throws {
        let fake = try FakeVMBusSysfs()
        try fake.addDevice(instance: "00000001-1111-4222-8333-444455556666", classID: VMBusDeviceClass.kvp.classID.description, relID: 1, driver: "hv_utils")
        try fake.put("/sys/bus/vmbus/devices/00000002-1111-4222-8333-444455556666/class_id", "garbage\n")
        try fake.mkdir("/sys/bus/vmbus/devices/not-a-guid")
        try fake.put("/sys/bus/vmbus/devices/00000001-1111-4222-8333-444455556666/channel_vp_mapping", "x:y\n1:3\n")
        let devices = VMBusDiscovery(sysfs: fake).devices()
        #expect(devices.count == 1)
        #expect(devices.first?.channelCPUs.map(\.cpu) == [3])
    }

    @Test func lsvmbusTextMatchesTheKernelTool() throws {
        let fake = try FakeVMBusSysfs()
        try fake.addDevice(instance: "242ff919-07db-4180-9c2e-b86cb68c8c55", classID: "a9a0f4e7-5a45-4d96-b827-8a841e8c03e6", relID: 11, driver: "hv_utils", cpu: 0)
        try fake.addDevice(instance: "2dd1ce17-079e-403c-b352-a1921ee207ee", classID: "9527e630-d0ae-497b-adce-e80ab0175caf", relID: 9, driver: "hv_utils", cpu: 1)
        let devices = VMBusDiscovery(sysfs: fake).devices()
        #expect(LsVMBusReport.text(devices, verbosity: 0) == "VMBUS ID  9: [Time Synchronization]\nVMBUS ID 11: [Data Exchange]\n")
        #expect(LsVMBusReport.text(devices, verbosity: 1) ==
            "VMBUS ID  9: Class_ID = {9527e630-d0ae-497b-adce-e80ab0175caf} - [Time Synchronization]\n\tRel_ID=9, target_cpu=1\n\n"
            + "VMBUS ID 11: Class_ID = {a9a0f4e7-5a45-4d96-b827-8a841e8c03e6} - [Data Exchange]\n\tRel_ID=11, target_cpu=0\n\n")
        #expect(LsVMBusReport.text(devices, verbosity: 2).contains(
            "\tDevice_ID = {242ff919-07db-4180-9c2e-b86cb68c8c55}\n\tSysfs path: /sys/bus/vmbus/devices/242ff919-07db-4180-9c2e-b86cb68c8c55\n"))
        let json = LsVMBusReport.json(devices)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(parsed.count == 2)
        #expect(parsed[1]["class"] as? String == "kvp")
        #expect(parsed[1]["uio"] is NSNull)
        #expect(parsed[0]["rel_id"] as? Int == 9)
    }

    @Test func uioBindingWritesTheExactSequence() throws {
        let fake = try seededTree()
        fake.failures["/sys/bus/vmbus/drivers/uio_hv_generic/new_id"] = EEXIST // registered by an earlier run
        fake.uioDelay = 3 // the uio node appears only after a few polls
        let discovery = VMBusDiscovery(sysfs: fake)
        let kvp = try #require(discovery.devices(of: .kvp).first)
        var binder = UIOBinder(sysfs: fake)
        var sleeps = 0
        binder.sleep = { _ in sleeps += 1 }
        let node = try binder.bindToUIO(kvp)
        let instance = kvp.instanceID.description
        #expect(fake.writes.map { "\($0.path) <- \($0.value)" } == [
            "/sys/bus/vmbus/drivers/uio_hv_generic/new_id <- a9a0f4e7-5a45-4d96-b827-8a841e8c03e6",
            "/sys/bus/vmbus/drivers/hv_utils/unbind <- \(instance)",
            "/sys/bus/vmbus/drivers/uio_hv_generic/bind <- \(instance)",
        ])
        #expect(node == "uio0")
        #expect(sleeps == 3)
        let bound = try #require(discovery.devices(of: .kvp).first)
        #expect(bound.driver == "uio_hv_generic")
        #expect(bound.uioNode == "uio0")
        #expect(bound.ringSize == 0x10000 / 2)

        fake.writes.removeAll()
        try binder.releaseToKernel(bound)
        #expect(fake.writes.map { "\($0.path) <- \($0.value)" } == [
            "/sys/bus/vmbus/drivers/uio_hv_generic/unbind <- \(instance)",
            "/sys/bus/vmbus/drivers/hv_utils/bind <- \(instance)",
            "/sys/bus/vmbus/drivers/uio_hv_generic/remove_id <- a9a0f4e7-5a45-4d96-b827-8a841e8c03e6",
        ])
        #expect(discovery.devices(of: .kvp).first?.driver == "hv_utils")
    }

    @Test func bindingFailuresAreReported() throws {
        let fake = try seededTree()
        let hb = try #require(VMBusDiscovery(sysfs: fake).devices(of: .heartbeat).first)
        var binder = UIOBinder(sysfs: fake)
        binder.sleep = { _ in }
        binder.probeRetries = 2
        fake.failures["/sys/bus/vmbus/drivers/hv_utils/unbind"] = EACCES
        #expect(throws: UIOBinder.BindError.write(SystemCallError(call: "write to", path: "/sys/bus/vmbus/drivers/hv_utils/unbind", errno: .permissionDenied))) { _ = try binder.bindToUIO(hb) }
        fake.uioDelay = 10
        #expect(throws: UIOBinder.BindError.noUIONode) { _ = try binder.bindToUIO(hb) }
        try FileManager.default.removeItem(atPath: fake.base.path + "/sys/bus/vmbus/drivers/uio_hv_generic")
        #expect(throws: UIOBinder.BindError.uioDriverMissing) { _ = try binder.bindToUIO(hb) }
    }

    /// After a rescind and re-offer the device comes back under a new instance directory (and a new
    /// uio node): rediscovery by class finds it.
    @Test func rediscoveryAfterReoffer() throws {
        let fake = try FakeVMBusSysfs()
        try fake.addDevice(instance: "00000001-1111-4222-8333-444455556666", classID: VMBusDeviceClass.kvp.classID.description, relID: 5, driver: "uio_hv_generic")
        let discovery = VMBusDiscovery(sysfs: fake)
        #expect(discovery.devices(of: .kvp).map(\.relID) == [5])
        try fake.removeDevice(instance: "00000001-1111-4222-8333-444455556666")
        #expect(discovery.devices(of: .kvp).isEmpty)
        try fake.addDevice(instance: "00000002-1111-4222-8333-444455556666", classID: VMBusDeviceClass.kvp.classID.description, relID: 17, driver: "hv_utils")
        let again = try #require(discovery.devices(of: .kvp).first)
        #expect(again.relID == 17)
        #expect(again.driver == "hv_utils") // both drivers match: it may land on hv_utils again
    }

    @Test(arguments: [
        ("6.10.0-12-amd64", true), ("6.11.2", true), ("6.9.12-arch1", false), ("5.15.0-1034-azure", false), ("7.0", true),
    ])
    func modeSelectionByKernel(release: String, uio: Bool) throws {
        let fake = try seededTree()
        let selector = ModeSelector(kernel: KernelRelease(release))
        let discovery = VMBusDiscovery(sysfs: fake)
        for service in ICServiceID.allCases {
            let d = selector.decide(service, preference: .auto, device: discovery.devices(of: service.deviceClass).first)
            // Backups stay with hv_utils where it owns the device (kernel mode is VSS's default).
            #expect(d.mode == (uio && service != .vss ? .uio : .kernel), "\(release) \(service): \(d.reason)")
            #expect(selector.decide(service, preference: .kernel, device: nil).mode == .kernel)
            #expect(selector.decide(service, preference: .uio, device: discovery.devices(of: service.deviceClass).first).mode == (uio ? .uio : nil))
        }
        // A backport makes an older series eligible.
        #expect(ModeSelector(kernel: KernelRelease(release), assumeUIOSignalling: true)
            .decide(.kvp, preference: .auto, device: discovery.devices(of: .kvp).first).mode == .uio)
    }

    @Test func monitorAllocatedOrMissingDevicesStayWithTheKernel() throws {
        let fake = try FakeVMBusSysfs()
        try fake.addDevice(instance: "00000001-1111-4222-8333-444455556666", classID: VMBusDeviceClass.timesync.classID.description, relID: 1, driver: "hv_utils", monitor: true)
        let selector = ModeSelector(kernel: KernelRelease(major: 6, minor: 12))
        let ts = VMBusDiscovery(sysfs: fake).devices(of: .timesync).first
        #expect(selector.decide(.timesync, preference: .auto, device: ts).mode == .kernel)
        #expect(selector.decide(.timesync, preference: .uio, device: ts).mode == nil)
        #expect(selector.decide(.heartbeat, preference: .auto, device: nil).mode == .kernel)
        #expect(KernelRelease("garbage") == nil)
        #expect(ModeSelector(kernel: nil).decide(.kvp, preference: .auto, device: ts).mode == .kernel)
    }

    @Test func backupsStayWithHvUtilsUnlessTheDeviceIsAlreadyOnUIO() throws {
        let fake = try FakeVMBusSysfs()
        try fake.addDevice(instance: "00000005-1111-4222-8333-444455556666", classID: VMBusDeviceClass.vss.classID.description, relID: 5, driver: "hv_utils")
        let selector = ModeSelector(kernel: KernelRelease(major: 6, minor: 12))
        let discovery = VMBusDiscovery(sysfs: fake)
        let owned = selector.decide(.vss, preference: .auto, device: discovery.devices(of: .vss).first)
        #expect(owned.mode == .kernel)
        #expect(owned.reason == "hv_utils owns the vss device: served through /dev/vmbus/hv_vss")
        #expect(selector.decide(.vss, preference: .uio, device: discovery.devices(of: .vss).first).mode == .uio)
        // Already bound to uio_hv_generic (an earlier uio run, or taken by hand): auto keeps uio.
        try fake.removeDevice(instance: "00000005-1111-4222-8333-444455556666")
        try fake.addDevice(instance: "00000006-1111-4222-8333-444455556666", classID: VMBusDeviceClass.vss.classID.description, relID: 6, driver: "uio_hv_generic")
        #expect(selector.decide(.vss, preference: .auto, device: discovery.devices(of: .vss).first).mode == .uio)
        #expect(AgentSettings()[.vssServiceMode] == .auto)
    }
}
