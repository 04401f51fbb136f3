import Foundation
import HostSimulator
import HVProtocol
import IPInjection
import KVPAgent
import KVPStore
import Testing
import TestSupport

/// GET_IP_INFO from the fake kernel's state, as the daemon reports what netlink shows.
struct FakeKernelIPInfo: IPInfoSource {
    let kernel: FakeIPKernel
    func ipInfo(adapterID: String) -> IPInfo? {
        guard adapterID == FakeAdapterSysfs.mac.uppercased() else { return nil }
        let s = kernel.current
        return IPInfo(addresses: s.addresses.sorted { $0.description < $1.description }
                        .map { .init(address: $0.address.description, prefixLength: $0.prefixLength) },
                      gateways: s.defaultGateways.map(\.description).sorted(), dnsServers: [], dhcpEnabled: false)
    }
    func interfaceName(forAdapterGUID adapterID: String) -> String? { adapterID == FakeAdapterSysfs.guid ? "eth0" : nil }
}

/// SET_IP_INFO end to end over the ring: the simulated host's request, the held reply, the fake
/// backend's effect, GET_IP_INFO reading it back; the loop keeps serving while it waits.
@Suite(.serialized) struct IPInjectionSimTests {
    let dir = TempDir()
    let machine: FakeAdapterSysfs

    init() throws {
        machine = try FakeAdapterSysfs()
    }

    /// - Parameter helper: apply through this IP helper's socket (the packaged agent's way) rather
    ///   than in process; the helper gets the fake injector.
    func harness(_ behaviour: FakeIPBackend.Behaviour, timeout: Duration = .seconds(2), helper: ((any IPInjecting) throws -> String)? = nil)
        throws -> (SimHarness, FakeIPBackend, FakeAdapterSysfs) {
        let kernel = FakeIPKernel(), backend = FakeIPBackend(kernel, behaviour)
        let engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true), ipInfo: FakeKernelIPInfo(kernel: kernel))
        let injector = machine.injector(backend, kernel, timeout: timeout)
        engine.ipInjection = try IPInjectionRunner(injector: try helper.map { IPHelperClient(socketPath: try $0(injector)) } ?? injector,
                                                   log: { _ in })
        let harness = try SimHarness(configure: { $0.services = [.kvp, .heartbeat] }, kvpEngine: engine)
        try harness.host.offerAll()
        _ = try harness.host.run(timeout: 10) { harness.host.negotiationCount[.kvp, default: 0] > 0 }
        return (harness, backend, machine)
    }

    static func request(_ addresses: String = "", _ subnets: String = "", gateways: String = "", dns: String = "",
                        dhcp: Bool = false, adapter: String = FakeAdapterSysfs.guid) -> KVPHostIPInfo {
        KVPHostIPInfo(adapterID: adapter, addressFamily: 0, dhcpEnabled: dhcp, ipAddresses: addresses, subnets: subnets,
                      gateways: gateways, dnsServers: dns)
    }

    @Test func staticIPv4ThenGetIPInfoReportsIt() throws {
        let (harness, backend, machine) = try harness(.works)
        defer { harness.stop() }
        let status = try harness.host.kvpSetIPInfo(Self.request("192.0.2.10", "255.255.255.0", gateways: "192.0.2.1", dns: "192.0.2.53"))
        #expect(status == .ok)
        #expect(backend.applied.first?.0.addresses.map(\.description) == ["192.0.2.10/24"])
        #expect(machine.file("ifcfg-eth0")?.contains("IPADDR0=192.0.2.10\n") == true)
        let get = try harness.host.kvpGetIPInfo(mac: FakeAdapterSysfs.mac.uppercased())
        #expect(get.status == .ok)
        #expect(get.info?.ipAddresses == "192.0.2.10")
        #expect(get.info?.subnets == "255.255.255.0")
        #expect(get.info?.gateways == "192.0.2.1;")
    }

    @Test func staticIPv6AndBothFamilies() throws {
        let (harness, backend, _) = try harness(.works)
        defer { harness.stop() }
        #expect(try harness.host.kvpSetIPInfo(Self.request("2001:db8::10", "64", gateways: "2001:db8::1")) == .ok)
        #expect(try harness.host.kvpSetIPInfo(Self.request("192.0.2.10;2001:db8::10", "255.255.255.0;64",
                                                           gateways: "192.0.2.1;2001:db8::1")) == .ok)
        #expect(backend.applied.count == 2)
        #expect(backend.applied.last?.0.addresses.map(\.description) == ["192.0.2.10/24", "2001:db8::10/64"])
        let get = try harness.host.kvpGetIPInfo(mac: FakeAdapterSysfs.mac.uppercased())
        #expect(get.info?.ipAddresses == "192.0.2.10;2001:db8::10")
    }

    @Test func dhcpBadTokenAndUnknownAdapter() throws {
        let (harness, backend, _) = try harness(.works)
        defer { harness.stop() }
        #expect(try harness.host.kvpSetIPInfo(Self.request(dhcp: true)) == .ok)
        #expect(backend.applied.last?.0 == IPConfiguration(dhcpV4: true))
        #expect(try harness.host.kvpSetIPInfo(Self.request("192.0.2.300", "255.255.255.0")) == .invalidArgument)
        #expect(try harness.host.kvpSetIPInfo(Self.request("192.0.2.10", "255.255.255.0",
                                                           adapter: "{00000000-0000-0000-0000-00000000abcd}")) == .guidNotFound)
        #expect(backend.applied.count == 1)
    }

    /// `sim-host --ip-script`'s runner against the agent: each step's status by name, and the
    /// GET_IP_INFO step reads back what the SET applied.
    @Test func scriptedSetThenGetReportsEachOutcome() throws {
        let (harness, _, _) = try harness(.works)
        defer { harness.stop() }
        let mac = FakeAdapterSysfs.mac.uppercased(), guid = FakeAdapterSysfs.guid
        let script = try IPInjectionScript(jsonLines: """
            {"label": "static", "set": {"adapter": "\(guid)", "addresses": "192.0.2.10;2001:db8::10", "subnets": "255.255.255.0;64", "gateways": "192.0.2.1"}}
            {"label": "readback", "get": "\(mac)"}
            {"label": "bad token", "set": {"adapter": "\(guid)", "addresses": "192.0.2.300", "subnets": "255.255.255.0"}}
            {"label": "unknown adapter", "set": {"adapter": "{00000000-0000-0000-0000-00000000abcd}", "addresses": "192.0.2.11", "subnets": "255.255.255.0"}}
            """)
        var outcomes: [IPInjectionScript.Outcome] = []
        try harness.host.runIPInjectionScript(script) { outcomes.append($0) }
        #expect(outcomes.map(\.status) == ["HV_S_OK", "HV_S_OK", "HV_INVALIDARG", "HV_GUID_NOTFOUND"])
        #expect(outcomes.map(\.label) == ["static", "readback", "bad token", "unknown adapter"])
        #expect(outcomes[1].op == "get" && outcomes[1].adapter == mac)
        #expect(outcomes[1].reply?.addresses == "192.0.2.10;2001:db8::10")
        // IPv6 prefixes read back as "/64", as hv_kvp_daemon writes them (docs/PROTOCOL.md §7.18 table).
        #expect(outcomes[1].reply?.subnets == "255.255.255.0;/64")
        #expect(outcomes[1].reply?.gateways == "192.0.2.1;")
        #expect(outcomes[0].reply == nil && outcomes[0].seconds != nil)
    }

    @Test func theReplyWaitsForTheKernelAndTheLoopKeepsServing() throws {
        let (harness, _, _) = try harness(.worksAfter(.milliseconds(800)))
        defer { harness.stop() }
        let before = harness.host.heartbeatsOK
        let clock = ContinuousClock(), start = clock.now
        #expect(try harness.host.kvpSetIPInfo(Self.request("192.0.2.10", "255.255.255.0")) == .ok)
        #expect(clock.now - start >= .milliseconds(700))
        // Heartbeats (every 50 ms) were answered while the reply was held.
        #expect(harness.host.heartbeatsOK - before >= 5)
    }

    @Test func noEffectIsRolledBackAndAnsweredFail() throws {
        let (harness, backend, _) = try harness(.hasNoEffect, timeout: .milliseconds(300))
        defer { harness.stop() }
        #expect(try harness.host.kvpSetIPInfo(Self.request("192.0.2.10", "255.255.255.0")) == .fail)
        #expect(backend.undone == 1)
        // The next request is served normally.
        #expect(try harness.host.kvpSetIPInfo(Self.request("192.0.2.300", "255.255.255.0")) == .invalidArgument)
    }

    @Test func throughTheIPHelperTheHostGetsTheHelpersOutcome() throws {
        var running: RunningIPHelper?
        let (harness, backend, machine) = try harness(.works, helper: { injector in
            running = try RunningIPHelper(injector: injector)
            return running!.socketPath
        })
        defer { harness.stop(); running?.stop() }
        #expect(try harness.host.kvpSetIPInfo(Self.request("192.0.2.10", "255.255.255.0", gateways: "192.0.2.1")) == .ok)
        #expect(backend.applied.first?.0.addresses.map(\.description) == ["192.0.2.10/24"])
        #expect(machine.file("ifcfg-eth0")?.contains("IPADDR0=192.0.2.10\n") == true)
        #expect(try harness.host.kvpSetIPInfo(Self.request("192.0.2.300", "255.255.255.0")) == .invalidArgument)
        #expect(running?.log.lines.contains { $0.hasPrefix("SET_IP_INFO applied to eth0") } == true)
    }

    @Test func withTheIPHelperAbsentTheHostGetsHVEFail() throws {
        let absent = dir.path + "/no-helper.sock"
        let (harness, backend, _) = try harness(.works, helper: { _ in absent })
        defer { harness.stop() }
        #expect(try harness.host.kvpSetIPInfo(Self.request("192.0.2.10", "255.255.255.0")) == .fail)
        #expect(backend.applied.isEmpty)
    }

    @Test func aSecondRequestWhileOneIsAppliedIsAnsweredFailAtOnce() throws {
        let kernel = FakeIPKernel(), backend = FakeIPBackend(kernel, .worksAfter(.milliseconds(500)))
        let runner = try IPInjectionRunner(injector: machine.injector(backend, kernel, timeout: .seconds(30)), log: { _ in })
        let request = HostIPSettings(adapterID: FakeAdapterSysfs.guid, addresses: "192.0.2.10", subnets: "255.255.255.0")
        var first: HResult?, second: HResult?
        runner.start(request) { first = $0.status }
        runner.start(request) { second = $0.status }
        #expect(second == .fail)
        #expect(first == nil)
        // The first one's outcome arrives through the runner's loop input.
        let input = runner.input
        var fds = pollfd(fd: input.descriptor(), events: Int16(POLLIN), revents: 0)
        #expect(poll(&fds, 1, 30_000) == 1)
        input.onReadable()
        #expect(first == .ok)
        #expect(backend.applied.count == 1)
    }
}
