import HVSystem
import TestSupport
import XCTest
@testable import NetInfo

/// The tracker against the real kernel, in a private network (and UTS) namespace.
///
/// `testTrackerInPrivateNetworkNamespace` (root only) re-runs this test binary under
/// `unshare --net --uts`, selecting `testNamespaceBody`, which only runs there (it refuses to
/// touch anything unless it sees a fresh namespace holding nothing but `lo`). The body creates
/// veth pairs and a bridge (not `dummy`: kernels without that module exist, this CI's among them), adds and removes IPv4/IPv6 addresses, routes and the host name
/// while `NetworkFacts` runs, and after each change checks that
/// * the change is not visible before the notification is processed (no re-dump per request),
/// * the notification makes `fileDescriptor` readable,
/// * after `processPendingEvents()` the auto pool lists equal `ip -j addr`, filtered by the rules,
///   in the same order, for three rule sets.
final class NetlinkNamespaceTests: XCTestCase {
    static let childKey = "HVAGENT_NETINFO_NETNS_CHILD"

    func testTrackerInPrivateNetworkNamespace() throws {
        guard let result = try PrivateNamespace.rerun("NetInfoTests.NetlinkNamespaceTests/testNamespaceBody", unshare: "--net --uts",
                                                      tools: ["unshare", "ip", "hostname"], childKey: Self.childKey) else {
            throw XCTSkip("needs root, unshare, ip and hostname")
        }
        print(result.output)
        XCTAssertEqual(result.status, 0, "namespace run failed")
        XCTAssertTrue(result.output.contains("Executed 1 test, with 0 failures"), "the body must have run and passed")
        XCTAssertFalse(result.output.contains("skipped"), "the body must not skip inside the namespace")
    }

    func testNamespaceBody() throws {
        guard ProcessInfo.processInfo.environment[NetlinkNamespaceTests.childKey] == "1" else {
            throw XCTSkip("runs only inside the namespace testTrackerInPrivateNetworkNamespace creates")
        }
        let links = try Shell.json("ip -j link show")
        guard links.count == 1, links.first?["ifname"] as? String == "lo" else {
            XCTFail("not a fresh network namespace (\(links.count) links); refusing to change anything")
            return
        }
        let root = NSTemporaryDirectory() + "netinfo-ns-\(getpid())"
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "nameserver 10.255.255.53\nnameserver fd00::53\n".write(toFile: root + "/etc/resolv.conf", atomically: true, encoding: .utf8)

        try Shell.must("""
            ip link set lo up
            ip link add eth7 type veth peer name veth7
            ip link set veth7 up
            ip link set eth7 address 02:fc:00:00:00:07 up
            ip addr add 192.0.2.2/24 dev eth7
            ip -6 addr add fd00::2/64 dev eth7 nodad
            ip link add veth0 type veth peer name veth1
            ip link set veth0 up
            ip link set veth1 up
            ip addr add 10.9.0.1/24 dev veth0
            ip -6 addr add fd09::1/64 dev veth0 nodad
            ip link add docker0 type bridge
            ip link set docker0 up
            ip addr add 172.17.0.1/16 dev docker0
            """)

        let os = OSInfo(name: "TestOS", majorVersion: "1", minorVersion: "", buildNumber: "6.1.0-9-amd64", version: "6.1.0", architecture: "x86_64")
        let ruleSets = [
            InterfaceRules(),
            InterfaceRules(exclude: [], includeIPv6LinkLocal: true),
            InterfaceRules(includeOnly: ["veth*", "docker0"]),
        ]
        let facts = try ruleSets.map { rules in
            try NetworkFacts(
                configuration: .init(rules: rules, root: root),
                resolver: HostnameResolver(resolve: { $0 + ".example" }),
                os: os
            )
        }
        let main = facts[0]

        // Initial dump (link-local addresses may still be appearing: settle through events).
        for f in facts { try settle(f) }
        let entries = main.autoPoolEntries()
        XCTAssertEqual(entries.map(\.key), AutoPoolFormat.keys)
        XCTAssertEqual(entries[2].value, "192.0.2.2")
        XCTAssertEqual(entries[3].value, "fd00::2")
        XCTAssertEqual(entries[1].value, "Unknown version", "the engine substitutes the registered version")
        XCTAssertEqual(Array(entries[4...].map(\.value)), ["6.1.0-9-amd64", "TestOS", "1", "", "6.1.0", "x86_64"])

        // Address changes, one at a time.
        let changes = [
            "ip addr add 198.51.100.7/24 dev eth7",
            "ip addr add 192.0.2.3/24 dev eth7",
            "ip -6 addr add fd00::3/64 dev eth7 nodad",
            "ip addr add 10.9.0.2/24 dev veth0",
            "ip addr add 172.17.0.2/16 dev docker0",
        ]
        for change in changes { try step(change, facts) }
        XCTAssertEqual(main.autoPoolEntries()[2].value, "192.0.2.2;198.51.100.7;192.0.2.3")
        XCTAssertEqual(main.autoPoolEntries()[3].value, "fd00::3;fd00::2", "newest IPv6 first, as the kernel lists them")

        // GET_IP_INFO: gateways from routes, DNS from the resolver files, DHCP from lifetimes.
        let mac = "02:FC:00:00:00:07"
        var info = try XCTUnwrap(main.adapterIPConfig(adapterID: mac))
        XCTAssertFalse(info.dhcpEnabled, "only permanent addresses so far")
        XCTAssertEqual(info.gateways, [])
        try Shell.must("""
            ip route add default via 192.0.2.1 dev eth7
            ip -6 route add default via fd00::1 dev eth7
            ip route add default via 10.9.0.254 dev veth0 metric 500
            ip route add default metric 900 nexthop via 192.0.2.254 dev eth7 nexthop via 10.9.0.253 dev veth0
            ip -6 route add default via fd00::1 dev eth7 metric 2000
            ip addr add 192.0.2.50/24 dev eth7 valid_lft 300 preferred_lft 300
            """)
        try settle(main, extra: { main.tracker.snapshot().gateways.count == 6 })
        info = try XCTUnwrap(main.adapterIPConfig(adapterID: mac))
        XCTAssertEqual(info.interfaceName, "eth7")
        let withPrefix = info.addresses.map { "\($0.text)/\($0.prefixLength)" }
        XCTAssertEqual(withPrefix, try expectedInterfaceAddresses("eth7"), "IPv4 then IPv6, as `ip -j addr show dev eth7`, no link-local")
        XCTAssertEqual(Array(withPrefix.prefix(6)), ["192.0.2.2/24", "198.51.100.7/24", "192.0.2.3/24", "192.0.2.50/24", "fd00::3/64", "fd00::2/64"])
        XCTAssertEqual(info.gateways, ["192.0.2.1", "192.0.2.254", "fd00::1"], "eth7's default gateways, multipath hops included, duplicates once")
        XCTAssertEqual(info.gateways, try Shell.defaultGateways(dev: "eth7"))
        XCTAssertEqual(info.dnsServers, ["10.255.255.53", "fd00::53"])
        XCTAssertTrue(info.dhcpEnabled, "an address with a lease lifetime")
        XCTAssertEqual(main.adapterIPConfig(adapterID: "02-fc-00-00-00-07"), info)
        XCTAssertNil(main.adapterIPConfig(adapterID: "02:FC:00:00:00:99"))
        XCTAssertNil(main.adapterIPConfig(adapterID: "garbage"))

        // Removals, a new interface that goes away again, a link going down and up.
        let removals = [
            "ip addr del 192.0.2.50/24 dev eth7",
            "ip -6 addr del fd00::2/64 dev eth7",
            "ip addr del 198.51.100.7/24 dev eth7",
            "ip link add eth8 type veth peer name veth8 && ip link set eth8 up && ip addr add 203.0.113.8/24 dev eth8",
            "ip link del eth8",
            "ip addr del 192.0.2.2/24 dev eth7",
            "ip link set eth7 down",
            "ip link set eth7 up && ip addr add 192.0.2.9/24 dev eth7",
        ]
        for change in removals { try step(change, facts) }
        // The kernel changed routes without telling anyone (flushed eth7's routes when its last
        // address went, marked the multipath hop dead, revived it with 192.0.2.9): the tracker
        // must still agree with `ip route`.
        var routeView: [String] = []
        try settle(main, extra: {
            routeView = (try? Shell.defaultGateways(dev: "eth7")) ?? ["?"]
            return main.adapterIPConfig(adapterID: mac)?.gateways == routeView
        })
        XCTAssertEqual(main.adapterIPConfig(adapterID: mac)?.gateways, routeView)
        XCTAssertEqual(routeView, ["192.0.2.254"], "only the revived multipath hop is left on eth7")
        XCTAssertEqual(main.adapterIPConfig(adapterID: mac)?.addresses.map(\.text), ["192.0.2.9"])

        // Host name change in this UTS namespace: noticed through /proc/sys/kernel/hostname.
        let before = main.resolver.fqdn
        XCTAssertTrue(before.hasSuffix(".example"), before)
        try Shell.must("hostname hvtest-renamed")
        XCTAssertTrue(waitReadable(main, timeout: 5), "a host-name change must wake the caller")
        try main.processPendingEvents()
        XCTAssertTrue(waitUntil { main.autoPoolEntries()[0].value == "hvtest-renamed.example" })

        // Overrun: shrink the socket buffer, flood it, then one processPendingEvents() must
        // notice ENOBUFS, re-dump and agree with `ip -j addr` again.
        var small: Int32 = 4096
        XCTAssertEqual(setsockopt(main.tracker.fileDescriptor, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size)), 0)
        let flood = (1...200).map { "addr add 100.64.\($0 / 250).\($0 % 250 + 1)/32 dev eth7" }.joined(separator: "\n")
        try flood.write(toFile: root + "/flood.batch", atomically: true, encoding: .utf8)
        try Shell.must("ip -batch \(root)/flood.batch")
        let resyncs = main.tracker.resyncCount
        try main.processPendingEvents()
        XCTAssertEqual(main.tracker.resyncCount, resyncs + 1, "a 4 KiB buffer cannot hold 200 notifications")
        let afterFlood = try Shell.json("ip -j addr show")
        XCTAssertEqual(main.autoPoolEntries()[2].value, AutoPoolFormat.addressList(Shell.expected(afterFlood, family: "inet", rules: main.configuration.rules)))
        XCTAssertTrue(main.autoPoolEntries()[2].value.contains("100.64.0.1"))
        try settle(main)

        // Idle: nothing pending, nothing to wake up for.
        for f in facts { try settle(f) }
        XCTAssertFalse(waitReadable(main, timeout: 0.3), "idle: the descriptor stays quiet")
        XCTAssertFalse(try main.processPendingEvents())
    }

    // MARK: - helpers

    /// Applies one change and checks every tracker: not visible before processing (for changes
    /// to interfaces the rules admit), announced on the descriptor, equal to `ip -j addr` after.
    func step(_ command: String, _ facts: [NetworkFacts], file: StaticString = #filePath, line: UInt = #line) throws {
        let before = facts.map { $0.tracker.snapshot() }
        try Shell.must(command)
        let json = try Shell.json("ip -j addr show")
        for (f, old) in zip(facts, before) {
            XCTAssertEqual(f.tracker.snapshot(), old, "\(command): snapshot changed before any event was processed", file: file, line: line)
            XCTAssertTrue(waitReadable(f, timeout: 5), "\(command): no notification", file: file, line: line)
            try settle(f)
            let rules = f.configuration.rules
            let entries = f.autoPoolEntries()
            XCTAssertEqual(entries[2].value, AutoPoolFormat.addressList(Shell.expected(json, family: "inet", rules: rules)), "\(command) IPv4 \(rules)", file: file, line: line)
            XCTAssertEqual(entries[3].value, AutoPoolFormat.addressList(Shell.expected(json, family: "inet6", rules: rules)), "\(command) IPv6 \(rules)", file: file, line: line)
        }
    }

    /// Processes events until the view equals `ip -j addr` (and `extra` holds), 5 s at most.
    func settle(_ f: NetworkFacts, extra: () -> Bool = { true }) throws {
        let deadline = Date().addingTimeInterval(5)
        while true {
            try f.processPendingEvents()
            let json = try Shell.json("ip -j addr show")
            let rules = f.configuration.rules
            let entries = f.autoPoolEntries()
            let ok = entries[2].value == AutoPoolFormat.addressList(Shell.expected(json, family: "inet", rules: rules))
                && entries[3].value == AutoPoolFormat.addressList(Shell.expected(json, family: "inet6", rules: rules))
            if ok && extra() {
                // Drain whatever is still queued so the next step starts from quiet.
                for _ in 0..<100 {
                    guard waitReadable(f, timeout: 0.05) else { break }
                    try f.processPendingEvents()
                }
                return
            }
            if Date() > deadline {
                XCTFail("tracker did not converge to `ip -j addr`: \(entries[2].value) | \(entries[3].value)")
                return
            }
            _ = waitReadable(f, timeout: 0.1)
        }
    }

    func waitReadable(_ f: NetworkFacts, timeout: Double) -> Bool {
        var p = pollfd(fd: f.fileDescriptor, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, Int32(timeout * 1000)) > 0
    }

    func waitUntil(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }

    /// `addr/prefixlen` of one interface from `ip -j addr show dev NAME`: IPv4 then IPv6, no
    /// link-local (the default rules).
    func expectedInterfaceAddresses(_ name: String) throws -> [String] {
        let json = try Shell.json("ip -j addr show dev \(name)")
        var out: [String] = []
        for family in ["inet", "inet6"] {
            for link in json {
                for a in link["addr_info"] as? [[String: Any]] ?? [] where a["family"] as? String == family {
                    guard let local = a["local"] as? String, let plen = a["prefixlen"] as? Int,
                          let parsed = InterfaceAddress(interfaceIndex: 0, text: local, prefixLength: plen),
                          !parsed.isIPv6LinkLocal else { continue }
                    out.append("\(local)/\(plen)")
                }
            }
        }
        return out
    }
}

extension Shell {
    /// `ip -j addr` filtered by the rules, one family, in `ip`'s (the kernel's dump) order.
    static func expected(_ json: [[String: Any]], family: String, rules: InterfaceRules) -> [String] {
        var out: [String] = []
        for link in json {
            let name = link["ifname"] as? String ?? ""
            let flags = link["flags"] as? [String] ?? []
            guard rules.admits(interfaceNamed: name, isLoopback: flags.contains("LOOPBACK")) else { continue }
            for a in link["addr_info"] as? [[String: Any]] ?? [] where a["family"] as? String == family {
                guard let local = a["local"] as? String,
                      let parsed = InterfaceAddress(interfaceIndex: 0, text: local, prefixLength: a["prefixlen"] as? Int ?? 0),
                      rules.admits(parsed) else { continue }
                out.append(local)
            }
        }
        return out
    }

    /// GET_IP_INFO gateways for one interface computed from `ip -j route`: default routes'
    /// live next hops through `dev`, IPv4 then IPv6, each once.
    static func defaultGateways(dev: String) throws -> [String] {
        var out: [String] = []
        for family in ["-4", "-6"] {
            for route in try json("ip -j \(family) route show default") {
                let hops = route["nexthops"] as? [[String: Any]] ?? [route]
                for hop in hops where hop["dev"] as? String == dev {
                    let flags = hop["flags"] as? [String] ?? []
                    guard let gw = hop["gateway"] as? String, !flags.contains("dead"), !out.contains(gw) else { continue }
                    out.append(gw)
                }
            }
        }
        return out
    }

    static func json(_ command: String) throws -> [[String: Any]] {
        let r = run(command)
        guard r.status == 0, let data = r.output.data(using: .utf8),
              let array = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw Failure(description: "`\(command)` gave no JSON array: \(r.output)")
        }
        return array
    }
}
