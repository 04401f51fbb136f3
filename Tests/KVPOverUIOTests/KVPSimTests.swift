import AgentCore
import Foundation
import HostSimulator
import ICFramework
import KVPAgent
import KVPStore
import Testing
import TestSupport
import HVProtocol

/// Auto-pool items in hv_kvp_daemon's order (IntegrationServicesVersion is the front end's).
struct StaticAutoPool: AutoPoolSource {
    func autoPoolEntries() -> [(key: String, value: String)] {
        [("FullyQualifiedDomainName", "guest.example.test"), ("IntegrationServicesVersion", "ignored"),
         ("NetworkAddressIPv4", "198.51.100.7"), ("NetworkAddressIPv6", "2001:db8::7"),
         ("OSBuildNumber", "6.12.0-1-amd64"), ("OSName", "Debian GNU/Linux"), ("OSMajorVersion", "13"),
         ("OSMinorVersion", ""), ("OSVersion", "6.12.0"), ("ProcessorArchitecture", "x86_64")]
    }
}

/// One adapter with addresses, found by its MAC.
struct StaticIPInfo: IPInfoSource {
    func ipInfo(adapterID: String) -> IPInfo? {
        guard adapterID == "00:15:5D:00:01:02" else { return nil }
        return IPInfo(addresses: [.init(address: "198.51.100.7", prefixLength: 26), .init(address: "2001:db8::7", prefixLength: 64)],
                      gateways: ["198.51.100.1"], dnsServers: ["198.51.100.53", "2001:db8::53"], dhcpEnabled: false)
    }
    func interfaceName(forAdapterGUID adapterID: String) -> String? { nil }
}

/// The KVP integration component end to end: the simulated host's KVP API against the agent's
/// ring front end and engine, pools in a temporary directory.
@Suite(.serialized) struct KVPSimTests {
    let dir = TempDir()

    func harness(configure: (inout SimHostConfiguration) -> Void = { _ in }) throws -> SimHarness {
        let engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true),
                               autoPool: StaticAutoPool(), ipInfo: StaticIPInfo())
        let harness = try SimHarness(configure: { $0.services = [.kvp]; configure(&$0) }, kvpEngine: engine)
        try harness.host.offerAll()
        _ = try harness.host.run(timeout: 10) {
            harness.host.negotiationCount[.kvp, default: 0] + harness.host.negotiationFailures[.kvp, default: 0] > 0
        }
        return harness
    }

    @Test func hostEnumeratesTheAutoPoolAfterNegotiatingVersion4() throws {
        let harness = try harness()
        defer { harness.stop() }
        #expect(harness.host.negotiated[.kvp] == NegotiatedVersions(framework: ICVersion(3, 0), service: ICVersion(4, 0)))
        let walk = try harness.host.kvpEnumerate(pool: 2)
        var expected = StaticAutoPool().autoPoolEntries().map { KVPHostRecord(key: $0.key, value: $0.value) }
        expected[1].value = "3.1"
        #expect(walk.records == expected)
        #expect(walk.end == .noMoreItems)
        // Recorded: one request and one reply per index, the last one "no more items".
        let kvp = harness.host.log.records.filter { $0.channel == "kvp" && $0.type == "kvp" }
        #expect(kvp.count == 2 * 11)
        #expect(kvp.last?.detail == "enumerate pool 2: no more items")
        #expect(harness.host.protocolErrors.isEmpty)
    }

    @Test func hostSetGetDeleteReachThePoolFile() throws {
        let harness = try harness()
        defer { harness.stop() }
        #expect(try harness.host.kvpSet(pool: 0, key: "HostName", value: "hv-node-01") == .ok)
        #expect(dir.bytes(".kvp_pool_0") == rawRecord("HostName", "hv-node-01"))
        #expect(try harness.host.kvpSet(pool: 0, key: "HostName", value: "hv-node-02 ü") == .ok)
        #expect(dir.bytes(".kvp_pool_0") == rawRecord("HostName", "hv-node-02 ü"))
        let got = try harness.host.kvpGet(pool: 0, key: "HostName")
        #expect(got.status == .ok && got.value == "hv-node-02 ü")
        #expect(try harness.host.kvpGet(pool: 0, key: "Missing").status == .noMoreItems)
        // The auto pool is the guest's: a host write is refused and nothing is written.
        #expect(try harness.host.kvpSet(pool: 2, key: "X", value: "y") == .notSupported)
        #expect(try harness.host.kvpDelete(pool: 0, key: "HostName") == .ok)
        #expect(dir.bytes(".kvp_pool_0").isEmpty)
        #expect(try harness.host.kvpDelete(pool: 0, key: "HostName") == .noMoreItems)
        #expect(harness.host.protocolErrors.isEmpty)
    }

    @Test func guestWritesAreSeenByHostEnumerate() throws {
        let harness = try harness()
        defer { harness.stop() }
        // What `kvp set` does: the pool store from another handle, while the agent serves the host.
        let guest = try PoolStore(directory: dir.path, writable: true)
        _ = try guest.file(.guest).set(try #require(PoolRecord(key: "deployment", value: "blue")))
        #expect(try harness.host.kvpEnumerate(pool: 1).records == [KVPHostRecord(key: "deployment", value: "blue")])
        _ = try guest.file(.guest).set(try #require(PoolRecord(key: "stage", value: "canary")))
        #expect(try harness.host.kvpEnumerate(pool: 1).records
            == [KVPHostRecord(key: "deployment", value: "blue"), KVPHostRecord(key: "stage", value: "canary")])
        _ = try guest.file(.guest).set(try #require(PoolRecord(key: "deployment", value: "green")))
        let walk = try harness.host.kvpEnumerate(pool: 1)
        #expect(walk.records == [KVPHostRecord(key: "deployment", value: "green"), KVPHostRecord(key: "stage", value: "canary")])
        #expect(walk.end == .noMoreItems)
        let got = try harness.host.kvpGet(pool: 1, key: "deployment")
        #expect(got.status == .ok && got.value == "green")
    }

    /// Another writer modifies a record in place AND appends between two reads of the engine: the
    /// file only looks grown, and the engine must still see the new value (PoolFile compares the
    /// known records before parsing only the tail).
    @Test func inPlaceChangePlusAppendBetweenHostReads() throws {
        let harness = try harness()
        defer { harness.stop() }
        let guest = try PoolStore(directory: dir.path, writable: true)
        _ = try guest.file(.guest).set(try #require(PoolRecord(key: "deployment", value: "blue")))
        #expect(try harness.host.kvpEnumerate(pool: 1).records.count == 1)
        _ = try guest.file(.guest).set(try #require(PoolRecord(key: "deployment", value: "green")))
        _ = try guest.file(.guest).set(try #require(PoolRecord(key: "stage", value: "canary")))
        let records = try harness.host.kvpEnumerate(pool: 1).records
        #expect(records == [KVPHostRecord(key: "deployment", value: "green"), KVPHostRecord(key: "stage", value: "canary")])
    }

    @Test func hostGetsIPInfoForAMAC() throws {
        let harness = try harness()
        defer { harness.stop() }
        let reply = try harness.host.kvpGetIPInfo(mac: "00:15:5D:00:01:02")
        #expect(reply.status == .ok)
        #expect(reply.info == KVPHostIPInfo(
            adapterID: "00:15:5D:00:01:02", addressFamily: 3, dhcpEnabled: false,
            ipAddresses: "198.51.100.7;2001:db8::7", subnets: "255.255.255.192;/64", gateways: "198.51.100.1;",
            dnsServers: "198.51.100.53;2001:db8::53;"))
        #expect(try harness.host.kvpGetIPInfo(mac: "00:15:5D:FF:FF:FF").status == .fail)
    }

    @Test func renegotiatesAfterRescindAndReoffer() throws {
        let harness = try harness()
        defer { harness.stop() }
        #expect(try harness.host.kvpSet(pool: 1, key: "before", value: "rescind") == .ok)
        try harness.host.rescind(.kvp)
        #expect(throws: HostChannelError.notReady) { try harness.host.kvpEnumerate(pool: 1) }
        // A WS2008-style host this time: framework 1.0, KVP 1.0, same layout.
        harness.host.configuration.offers[.kvp] = .ws2008
        try harness.host.offer(.kvp)
        #expect(try harness.host.run(timeout: 5) { harness.host.negotiationCount[.kvp] == 2 })
        #expect(harness.host.negotiated[.kvp] == NegotiatedVersions(framework: ICVersion(1, 0), service: ICVersion(1, 0)))
        #expect(try harness.host.kvpEnumerate(pool: 1).records == [KVPHostRecord(key: "before", value: "rescind")])
        // A v5-only host: no common version, the channel stays failed and nothing is exchanged.
        try harness.host.rescind(.kvp)
        harness.host.configuration.offers[.kvp] = HostVersionOffer(frameworkVersions: HostVersionOffer.frameworks,
                                                                   serviceVersions: [ICVersion(5, 0)])
        try harness.host.offer(.kvp)
        #expect(try harness.host.run(timeout: 5) { harness.host.negotiationFailures[.kvp] == 1 })
        #expect(throws: HostChannelError.notReady) { try harness.host.kvpSet(pool: 1, key: "k", value: "v") }
        #expect(harness.host.protocolErrors.isEmpty)
    }
}
