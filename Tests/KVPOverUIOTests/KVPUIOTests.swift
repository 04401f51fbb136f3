import Foundation
import Testing
import AgentCore
import KVPAgent
import KVPStore
import RingTransport
import ShutdownSvc
import Timesync
import HVSystem
import VMBusDiscovery
import TestSupport
import HVProtocol

/// KVP in uio mode: with an engine configured the agent takes the KVP device from
/// uio_hv_generic and serves it (ring exchanges themselves are covered over the simulated VMBus by
/// `KVPSimTests`, which uses the same channel and handler code); without one the offer is left alone.
@Suite("KVP over uio")
struct KVPUIOTests {
    let kvp = "00000001-1111-4222-8333-444455556666"

    func agent(engine: KVPEngine?) throws -> (IntegrationAgent, FakeVMBusSysfs) {
        let fake = try FakeVMBusSysfs()
        try fake.addDevice(instance: kvp, classID: VMBusDeviceClass.kvp.classID.description, relID: 1, driver: "hv_utils")
        let source = UIOChannelSource(sysfs: fake, services: [.kvp], deviceDirectory: fake.devDirectory)
        source.binder.sleep = { _ in }
        source.scan()
        let clock = SimulatedClock(source: SystemTimeSource(), initialOffsetNanoseconds: 0, driftPPM: 0)
        let agent = try IntegrationAgent(source: source, services: AgentTestServices.make(timesyncMode: .off, clock: clock, kvpEngine: engine))
        try agent.acceptPendingChannels()
        return (agent, fake)
    }

    @Test func agentServesTheKVPDeviceWhenItHasAnEngine() throws {
        let dir = TempDir()
        let (agent, fake) = try agent(engine: KVPEngine(store: try PoolStore(directory: dir.path, writable: true)))
        #expect(agent.openServices == [.kvp])
        #expect(fake.writes.contains { $0.path == "/sys/bus/vmbus/drivers/uio_hv_generic/bind" && $0.value == kvp })
    }

    @Test func withoutAnEngineTheKVPOfferIsNotOpened() throws {
        let (agent, _) = try agent(engine: nil)
        #expect(agent.openServices.isEmpty)
    }
}
