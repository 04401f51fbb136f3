import XCTest
import Synchronization
@testable import NetInfo

/// os-release and legacy release files, resolver and lease state: parsed from fake files.
final class SystemFilesTests: XCTestCase {
    let uname = OSInfo.Uname(sysname: "Linux", release: "6.8.0-1012-azure", machine: "aarch64")
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "netinfo-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    func write(_ path: String, _ text: String) throws {
        let full = root + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    func testOSReleaseParsingFollowsUpstreamRules() {
        let text = """
        # comment NAME=wrong
        NAME="Debian GNU/Linux"
        VERSION_ID='12'
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        ID=debian
        HOME_URL="https://www.debian.org/"
        ESCAPED="a\\"b\\\\c"
        NOEQUALS
        NAME=Later\\ "Wins"
        """
        let fields = OSInfo.parseOSRelease(text)
        XCTAssertEqual(fields["NAME"], "Later Wins")
        XCTAssertEqual(fields["VERSION_ID"], "12")
        XCTAssertEqual(fields["ESCAPED"], "a\"b\\c")
        XCTAssertEqual(fields["HOME_URL"], "https://www.debian.org/")
        XCTAssertNil(fields["NOEQUALS"])
        XCTAssertNil(fields["# comment NAME"])

        let info = OSInfo.make(uname: uname, osRelease: "NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n")
        XCTAssertEqual(info, OSInfo(name: "Ubuntu", majorVersion: "24.04", minorVersion: "", buildNumber: "6.8.0-1012-azure", version: "6.8.0", architecture: "aarch64"))
    }

    func testOSReleaseWithoutKeysKeepsUnameAndNeverReadsLegacyFiles() {
        let info = OSInfo.make(uname: uname, osRelease: "ID=custom\n", suseRelease: "SUSE\n11\n2\n")
        XCTAssertEqual(info.name, "Linux")
        XCTAssertEqual(info.majorVersion, "")
        XCTAssertEqual(info.minorVersion, "")
    }

    func testLegacyReleaseFilesFallback() {
        let suse = OSInfo.make(uname: uname, osRelease: nil, suseRelease: "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n", redhatRelease: "ignored")
        XCTAssertEqual([suse.name, suse.majorVersion, suse.minorVersion], ["SUSE Linux Enterprise Server 11 (x86_64)", "VERSION = 11", "PATCHLEVEL = 4"])
        let rh = OSInfo.make(uname: uname, osRelease: nil, redhatRelease: "CentOS release 6.10 (Final)\n")
        XCTAssertEqual([rh.name, rh.majorVersion, rh.minorVersion], ["CentOS release 6.10 (Final)", "", ""])
        let none = OSInfo.make(uname: OSInfo.Uname(sysname: "Linux", release: "6.1.0", machine: "x86_64"), osRelease: nil)
        XCTAssertEqual(none, OSInfo(name: "Linux", majorVersion: "", minorVersion: "", buildNumber: "6.1.0", version: "6.1.0", architecture: "x86_64"))
    }

    func testLoadReadsFilesUnderRootInUpstreamPriority() throws {
        try write("/etc/redhat-release", "Red Hat Enterprise Linux Server release 7.9 (Maipo)\n")
        XCTAssertEqual(OSInfo.load(root: root, uname: uname).name, "Red Hat Enterprise Linux Server release 7.9 (Maipo)")
        try write("/etc/SuSE-release", "openSUSE 13.2\nVERSION = 13.2\n")
        XCTAssertEqual(OSInfo.load(root: root, uname: uname).name, "openSUSE 13.2")
        try write("/etc/os-release", "NAME=Fedora Linux\nVERSION_ID=41\n")
        let info = OSInfo.load(root: root, uname: uname)
        XCTAssertEqual([info.name, info.majorVersion, info.minorVersion], ["Fedora Linux", "41", ""])
        XCTAssertFalse(OSInfo.Uname.current().release.isEmpty)
    }

    func testDNSFromResolvedPerLinkStateElseResolvConf() throws {
        let config = ResolverConfig(root: root)
        XCTAssertEqual(config.dnsServers(interfaceIndex: 2), [], "no files: no servers")
        try write("/etc/resolv.conf", "# generated\nsearch example.com\nnameserver 10.255.255.53\nnameserver fd00::53\nnameserver bogus\noptions edns0\n")
        XCTAssertEqual(config.dnsServers(interfaceIndex: 2), ["10.255.255.53", "fd00::53"])
        try write("/etc/resolv.conf", "nameserver 127.0.0.53\noptions edns0 trust-ad\n")
        XCTAssertEqual(config.dnsServers(interfaceIndex: 2), ["127.0.0.53"], "stub without resolved's upstream file")
        try write("/run/systemd/resolve/resolv.conf", "nameserver 168.63.129.16\n")
        XCTAssertEqual(config.dnsServers(interfaceIndex: 2), ["168.63.129.16"], "stub replaced by resolved's upstream list")
        try write("/run/systemd/resolve/netif/2", "# This is private data.\nLLMNR=yes\nSERVERS=10.0.0.2 [fd00::2]:53 10.0.0.3:5353#dns.example fe80::1%2\nDOMAINS=corp\n")
        XCTAssertEqual(config.dnsServers(interfaceIndex: 2), ["10.0.0.2", "fd00::2", "10.0.0.3", "fe80::1"])
        XCTAssertEqual(config.dnsServers(interfaceIndex: 3), ["168.63.129.16"], "other links fall back")
        try write("/run/systemd/resolve/netif/4", "LLMNR=yes\nSERVERS=\n")
        XCTAssertEqual(config.dnsServers(interfaceIndex: 4), ["168.63.129.16"], "empty per-link list falls back")
    }

    func testDHCPStateFromNetworkdLeaseOrAddressLifetime() throws {
        let state = DHCPState(root: root)
        let permanent = try XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "10.0.0.4", prefixLength: 24, flags: 0x80))
        let leased = try XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "10.0.0.5", prefixLength: 24, flags: 0x00))
        let slaac = try XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "2001:db8::5", prefixLength: 64, flags: 0x00))
        XCTAssertFalse(state.isEnabled(interfaceIndex: 2, addresses: [permanent]))
        XCTAssertFalse(state.isEnabled(interfaceIndex: 2, addresses: [permanent, slaac]), "IPv6 autoconfiguration is not DHCP")
        XCTAssertTrue(state.isEnabled(interfaceIndex: 2, addresses: [permanent, leased]))
        try write("/run/systemd/netif/leases/2", "ADDRESS=10.0.0.4\n")
        XCTAssertTrue(state.isEnabled(interfaceIndex: 2, addresses: [permanent]))
        XCTAssertFalse(state.isEnabled(interfaceIndex: 3, addresses: [permanent]))
    }

    func testVMBusAdapterLookupByExactInstanceGUID() throws {
        let adapters = VMBusAdapters(root: root)
        XCTAssertNil(adapters.interfaceName(forAdapterGUID: "{f8615163-df3e-46c5-913f-f2d2f965ed0e}"), "no sysfs: no match")
        try write("/sys/class/net/eth0/device/device_id", "{f8615163-df3e-46c5-913f-f2d2f965ed0e}\n")
        try write("/sys/class/net/eth1/device/device_id", "{00000000-0000-0000-0000-000000000001}\n")
        try write("/sys/class/net/lo/address", "00:00:00:00:00:00\n")
        XCTAssertEqual(adapters.interfaceName(forAdapterGUID: "{f8615163-df3e-46c5-913f-f2d2f965ed0e}"), "eth0")
        XCTAssertEqual(adapters.interfaceName(forAdapterGUID: "{00000000-0000-0000-0000-000000000001}\0\0"), "eth1")
        XCTAssertNil(adapters.interfaceName(forAdapterGUID: "{F8615163-DF3E-46C5-913F-F2D2F965ED0E}"), "exact, case-sensitive, as upstream")
        XCTAssertNil(adapters.interfaceName(forAdapterGUID: "f8615163-df3e-46c5-913f-f2d2f965ed0e"))
        XCTAssertNil(adapters.interfaceName(forAdapterGUID: ""))
    }
}

/// FQDN: answered from memory at once; resolution in the background, again on a name change.
final class HostnameResolverTests: XCTestCase {
    final class Gate: @unchecked Sendable {
        let semaphore = DispatchSemaphore(value: 0)
        let name = Mutex("vm1")
        let calls = Mutex<[String]>([])
    }

    func waitUntil(_ timeout: TimeInterval = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(2_000)
        }
        return condition()
    }

    func testFQDNNeverWaitsForASlowResolver() {
        let gate = Gate()
        let resolver = HostnameResolver(resolve: { name in
            gate.calls.withLock { $0.append(name) }
            gate.semaphore.wait()
            return name + ".example.com"
        }, hostname: { gate.name.withLock { $0 } })
        let started = Date()
        XCTAssertEqual(resolver.fqdn, "vm1", "plain host name while the first resolution runs")
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5)
        XCTAssertTrue(resolver.isResolving)
        gate.semaphore.signal()
        XCTAssertTrue(waitUntil { resolver.fqdn == "vm1.example.com" && !resolver.isResolving })

        // Rename twice while the next resolution is stuck: one more pass, last name wins.
        gate.name.withLock { $0 = "vm2" }
        resolver.hostnameMayHaveChanged()
        XCTAssertTrue(waitUntil { gate.calls.withLock { $0.count } == 2 })
        gate.name.withLock { $0 = "vm3" }
        resolver.hostnameMayHaveChanged()
        XCTAssertEqual(resolver.fqdn, "vm1.example.com", "last known value while resolving")
        gate.semaphore.signal()
        gate.semaphore.signal()
        XCTAssertTrue(waitUntil { resolver.fqdn == "vm3.example.com" && !resolver.isResolving })
        XCTAssertEqual(gate.calls.withLock { $0 }, ["vm1", "vm2", "vm3"])

        let passes = resolver.completedPasses
        resolver.hostnameMayHaveChanged()
        usleep(50_000)
        XCTAssertEqual(resolver.completedPasses, passes, "no change, no resolution")
    }

    func testFailedResolutionFallsBackToTheHostName() {
        let resolver = HostnameResolver(resolve: { _ in nil }, hostname: { "lonely" })
        XCTAssertTrue(waitUntil { resolver.completedPasses == 1 })
        XCTAssertEqual(resolver.fqdn, "lonely")
    }

    func testRealResolverAndHostname() {
        XCTAssertEqual(HostnameResolver.canonicalName("localhost"), "localhost")
        XCTAssertNil(HostnameResolver.canonicalName(""))
        XCTAssertFalse(HostnameResolver.systemHostname().isEmpty)
    }
}
