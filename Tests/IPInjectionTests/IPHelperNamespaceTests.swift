import Foundation
import HVProtocol
import IPInjection
import TestSupport
import XCTest

/// The built `hvagent ip-helper` holding CAP_NET_ADMIN and no other capability (as
/// hvagent-ip.service's bounding set leaves it, bar CAP_CHOWN, which netlink does not use) applies a
/// SET_IP_INFO through the netlink backend for a client that only talks to its socket; without
/// CAP_NET_ADMIN it cannot, and the host is answered HV_E_FAIL. In private network and mount
/// namespaces (`testInPrivateNamespaces`, root only, re-runs `testNamespaceBody` under `unshare`):
/// a veth, and a tmpfs over `/sys/class/net` where the helper finds it as a Hyper-V adapter.
final class IPHelperNamespaceTests: XCTestCase {
    static let childKey = "HVAGENT_IPHELPER_NETNS_CHILD"
    static let guid = "{6c7c5f1f-1d3b-4d7d-8c2f-8e2f1b3c4d5e}"

    func testInPrivateNamespaces() throws {
        guard AgentProcesses.built else { throw XCTSkip("hvagent is not built (swift build --build-tests)") }
        guard let result = try PrivateNamespace.rerun("IPInjectionTests.IPHelperNamespaceTests/testNamespaceBody",
                                                      unshare: "--net --mount --propagation private",
                                                      tools: ["unshare", "ip", "mount", "setpriv"], childKey: Self.childKey) else {
            throw XCTSkip("needs root, unshare, ip, mount and setpriv")
        }
        print(result.output)
        XCTAssertTrue(PrivateNamespace.bodyPassed(result), "the body must have run in the namespaces and passed")
    }

    /// `hvagent ip-helper` under `setpriv --bounding-set CAPS`, on a socket in `directory`.
    func startHelper(_ directory: String, boundingSet: String) throws -> (Process, String) {
        let socket = directory + "/ip-\(boundingSet.hashValue).sock"
        let config = directory + "/hvagent.conf"
        try "[kvp]\nip_injection = netlink\nip_verify_timeout_seconds = 3\npool_dir = \(directory)\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--bounding-set", boundingSet, "--inh-caps", "-all", "--",
                             AgentProcesses.hvagent, "ip-helper", "--socket", socket, "--config", config, "--idle-exit-seconds", "0"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while !FileManager.default.fileExists(atPath: socket) && ContinuousClock.now < deadline { usleep(20_000) }
        return (process, socket)
    }

    func testNamespaceBody() throws {
        guard ProcessInfo.processInfo.environment[Self.childKey] == "1" else {
            throw XCTSkip("runs only inside the namespaces testInPrivateNamespaces creates")
        }
        try PrivateNamespace.requireFreshNetworkNamespace()
        let index = try NetlinkBackendNamespaceTests.makeVeth("eth6", mac: "00:15:5d:06:06:06")
        let directory = NSTemporaryDirectory() + "iphelper-ns-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Only in this mount namespace (private propagation): the machine's /sys stays as it is.
        try Shell.must("""
            test "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)"
            grep -q 'shared:' /proc/self/mountinfo && exit 1 || true
            mount -t tmpfs tmpfs /sys/class/net
            mkdir -p /sys/class/net/eth6/device
            echo '\(Self.guid)' > /sys/class/net/eth6/device/device_id
            echo 00:15:5d:06:06:06 > /sys/class/net/eth6/address
            echo \(index) > /sys/class/net/eth6/ifindex
            """)
        let request = HostIPSettings(adapterID: Self.guid, addressFamily: 1, addresses: "198.51.100.6", subnets: "255.255.255.0",
                                     gateways: "198.51.100.1", dnsServers: "198.51.100.53")

        // Without CAP_NET_ADMIN the helper can change nothing: HV_E_FAIL, the old address stays.
        let (weak, weakSocket) = try startHelper(directory, boundingSet: "-all")
        defer { weak.terminate() }
        let refused = IPHelperClient(socketPath: weakSocket, replyTimeout: .seconds(20)).set(request)
        print("without CAP_NET_ADMIN: \(refused.message)")
        XCTAssertEqual(refused.status, .fail, refused.message)
        XCTAssertTrue(NetlinkBackendNamespaceTests.kernelState("eth6").contains("inet 192.0.2.9/24"))

        // With CAP_NET_ADMIN alone it applies and verifies the request.
        let (helper, socket) = try startHelper(directory, boundingSet: "-all,+net_admin")
        defer { helper.terminate() }
        let applied = IPHelperClient(socketPath: socket, replyTimeout: .seconds(20)).set(request)
        print("with CAP_NET_ADMIN: \(applied.message)")
        XCTAssertEqual(applied.status, .ok, applied.message)
        let state = NetlinkBackendNamespaceTests.kernelState("eth6")
        XCTAssertTrue(state.contains("inet 198.51.100.6/24"), state)
        XCTAssertFalse(state.contains("192.0.2.9"), state)
        XCTAssertTrue(state.contains("default via 198.51.100.1 dev eth6"), state)
        XCTAssertNotNil(try? String(contentsOfFile: directory + "/ifcfg-eth6", encoding: .utf8))
    }
}
