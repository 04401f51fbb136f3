import Foundation
import Testing
@testable import AgentCore
import RingTransport
import ShutdownSvc
import Timesync
import HVSystem
import VMBusDiscovery
import TestSupport
import HVProtocol

@Suite("uio channel source on a fake sysfs tree")
struct UIOChannelSourceTests {
    let kvpA = "00000001-1111-4222-8333-444455556666"
    let heartbeat = "00000002-1111-4222-8333-444455556666"

    func tree() throws -> FakeVMBusSysfs {
        let fake = try FakeVMBusSysfs()
        try fake.addDevice(instance: kvpA, classID: VMBusDeviceClass.kvp.classID.description, relID: 1, driver: "hv_utils")
        try fake.addDevice(instance: heartbeat, classID: VMBusDeviceClass.heartbeat.classID.description, relID: 2, driver: "hv_utils")
        return fake
    }

    func offers(_ events: [ChannelSourceEvent]?) -> [(VMBusGUID, VMBusChannel)] {
        (events ?? []).compactMap { if case .offer(_, let i, let c) = $0 { (i, c) } else { nil } }
    }

    @Test func bindsOpensAndReoffersAfterLossAndReoffer() throws {
        let fake = try tree()
        var pendingUEvent = false
        let source = UIOChannelSource(sysfs: fake, services: [.heartbeat, .kvp], deviceDirectory: fake.devDirectory,
                                      uevents: (descriptor: -1, drain: { defer { pendingUEvent = false }; return pendingUEvent }))
        source.binder.sleep = { _ in }
        source.scan()
        let first = offers(try source.events())
        #expect(first.map(\.0.description).sorted() == [kvpA, heartbeat].sorted())
        #expect(first.allSatisfy { $0.1.ringSize == 0x8000 && $0.1.role == .guest })
        #expect(fake.writes.filter { $0.path.hasSuffix("/bind") }.count == 2)
        #expect(source.errors.isEmpty)
        #expect(offers(try source.events()).isEmpty) // nothing new

        // The heartbeat channel failed (e.g. EIO): the device is still there and bound, so it is opened again.
        let writesBefore = fake.writes.count
        source.lost(classID: VMBusDeviceClass.heartbeat.classID, instanceID: try #require(VMBusGUID(heartbeat)))
        #expect(offers(try source.events()).map(\.0.description) == [heartbeat])
        #expect(fake.writes.count == writesBefore) // already on uio: no sysfs writes

        // KVP is rescinded (the device goes away, then the agent reads EIO) and re-offered under a new
        // instance, bound to hv_utils again.
        try fake.removeDevice(instance: kvpA)
        source.lost(classID: VMBusDeviceClass.kvp.classID, instanceID: try #require(VMBusGUID(kvpA)))
        #expect(offers(try source.events()).isEmpty)
        let kvpB = "00000009-1111-4222-8333-444455556666"
        try fake.addDevice(instance: kvpB, classID: VMBusDeviceClass.kvp.classID.description, relID: 30, driver: "hv_utils")
        #expect(offers(try source.events()).isEmpty) // no uevent yet: nothing polls sysfs
        pendingUEvent = true
        #expect(offers(try source.events()).map(\.0.description) == [kvpB])

        // Release hands the devices still present back to hv_utils.
        fake.writes.removeAll()
        #expect(source.releaseAll().isEmpty) // kvpA is gone: nothing to hand back
        let rebinds = fake.writes.filter { $0.path == "/sys/bus/vmbus/drivers/hv_utils/bind" }.map(\.value)
        #expect(Set(rebinds) == [heartbeat, kvpB])
    }

    @Test func agentTakesUIOChannels() throws {
        let fake = try tree()
        let source = UIOChannelSource(sysfs: fake, services: [.heartbeat], deviceDirectory: fake.devDirectory)
        source.binder.sleep = { _ in }
        source.scan()
        let clock = SimulatedClock(source: SystemTimeSource(), initialOffsetNanoseconds: 0, driftPPM: 0)
        let agent = try IntegrationAgent(source: source, services: AgentTestServices.make(timesyncMode: .off, clock: clock))
        try agent.acceptPendingChannels()
        #expect(agent.openServices == [.heartbeat])
    }

    /// A channel closed for a corrupt ring is opened again on the same node: under uio that open
    /// is what makes the host open the channel and negotiate again.
    @Test func corruptChannelIsReopenedOnTheSameNode() throws {
        let fake = try tree()
        let source = UIOChannelSource(sysfs: fake, services: [.heartbeat], deviceDirectory: fake.devDirectory)
        source.binder.sleep = { _ in }
        source.scan()
        let offered = offers(try source.events())
        let (instance, first) = try #require(offered.first)
        let classID = ICServiceID.heartbeat.classID
        source.closed(classID: classID, instanceID: instance)
        let second = try source.reopen(classID: classID, instanceID: instance)
        #expect(second !== first)
        #expect(second.ringSize == first.ringSize)
        #expect(offers(try source.events()).isEmpty)  // a reopen is not a new offer
        // A rescinded device is not reopened: the source looks for it by class instead.
        try fake.removeDevice(instance: instance.description)
        source.lost(classID: classID, instanceID: instance)
        #expect(throws: ChannelError.rescinded) { try source.reopen(classID: classID, instanceID: instance) }
    }

    @Test func missingUIODriverIsReported() throws {
        let fake = try tree()
        try FileManager.default.removeItem(atPath: fake.base.path + "/sys/bus/vmbus/drivers/uio_hv_generic")
        let source = UIOChannelSource(sysfs: fake, services: [.kvp], deviceDirectory: fake.devDirectory)
        source.scan()
        #expect(offers(try source.events()).isEmpty)
        #expect(source.errors == ["kvp: uio_hv_generic is not loaded; run: modprobe uio_hv_generic"])
    }
}
