import TestSupport
import XCTest
@testable import NetInfo

/// Read-only checks against the machine's real network view (no root needed: a netlink dump
/// and its notifications are open to everyone). Nothing is changed.
final class LiveSystemTests: XCTestCase {
    func testLiveAutoPoolMatchesIPAddrAndOSRelease() throws {
        guard Shell.run("command -v ip").status == 0 else {
            print("LiveSystemTests: skipped: `ip` not installed (scripts/setup.sh installs iproute2)")
            throw XCTSkip("ip not installed")
        }
        let facts = try NetworkFacts(resolver: HostnameResolver(resolve: { _ in nil }))
        for rules in [InterfaceRules(), InterfaceRules(exclude: [], includeIPv6LinkLocal: true)] {
            // The host's addresses could change under us; retry a few times before failing.
            var ok = false
            var last = ("", "", "", "")
            for _ in 0..<5 {
                try facts.processPendingEvents()
                let json = try Shell.json("ip -j addr show")
                let snapshot = facts.tracker.snapshot()
                let v4 = AutoPoolFormat.addressList(snapshot.autoPoolAddresses(.ipv4, rules: rules).map(\.text))
                let v6 = AutoPoolFormat.addressList(snapshot.autoPoolAddresses(.ipv6, rules: rules).map(\.text))
                last = (v4, AutoPoolFormat.addressList(Shell.expected(json, family: "inet", rules: rules)),
                        v6, AutoPoolFormat.addressList(Shell.expected(json, family: "inet6", rules: rules)))
                if last.0 == last.1 && last.2 == last.3 { ok = true; break }
                usleep(200_000)
            }
            XCTAssertTrue(ok, "tracker \(last.0) | \(last.2) vs ip \(last.1) | \(last.3) for \(rules)")
        }
        let entries = facts.autoPoolEntries()
        XCTAssertEqual(entries.count, 10)
        XCTAssertEqual(entries[0].value, HostnameResolver.systemHostname(), "failed resolution falls back to the host name")
        let uname = OSInfo.Uname.current()
        XCTAssertEqual(entries[4].value, uname.release)
        XCTAssertEqual(entries[9].value, uname.machine)
        if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) {
            XCTAssertEqual(entries[5].value, OSInfo.parseOSRelease(text)["NAME"] ?? uname.sysname)
        }

        // GET_IP_INFO for every Ethernet interface with addresses, by its sysfs MAC.
        for link in try Shell.json("ip -j addr show") {
            guard let name = link["ifname"] as? String, link["link_type"] as? String == "ether",
                  let mac = link["address"] as? String,
                  let sysfs = try? String(contentsOfFile: "/sys/class/net/\(name)/address", encoding: .utf8) else { continue }
            let hostForm = sysfs.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
            XCTAssertEqual(hostForm, mac.uppercased())
            let sameMAC = try Shell.json("ip -j link show").filter { ($0["address"] as? String)?.uppercased() == hostForm }
            guard sameMAC.count == 1 else { continue }  // shared MACs (bridges, VFs) pick by rule, not by name
            let info = try XCTUnwrap(facts.adapterIPConfig(adapterID: hostForm), name)
            XCTAssertEqual(info.interfaceName, name)
            let v4 = (link["addr_info"] as? [[String: Any]] ?? []).filter { $0["family"] as? String == "inet" }.compactMap { $0["local"] as? String }
            XCTAssertEqual(Array(info.addresses.map(\.text).prefix(v4.count)), v4, name)
        }
    }
}
