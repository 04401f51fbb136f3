import HVProtocol
@testable import IPInjection
import Testing

/// The agent↔IP-helper packets (docs/PROTOCOL.md §7.19.1), laid out by hand: a round trip, and
/// every truncation, extension and bad field decoded as malformed, never a trap.
@Suite struct IPHelperMessageTests {
    static let settings = HostIPSettings(adapterID: "{f8615163-df3e-46c5-913f-f2d2f965ed0e}", addressFamily: 3, dhcpEnabled: false,
                                         addresses: "192.0.2.10;2001:db8::10", subnets: "255.255.255.0;64",
                                         gateways: "192.0.2.1", dnsServers: "192.0.2.53")

    @Test func aRequestIsLaidOutAsDocumented() throws {
        let small = HostIPSettings(adapterID: "{a}", addressFamily: 1, dhcpEnabled: true, addresses: "", subnets: "x",
                                   gateways: "é", dnsServers: "")
        let bytes = try #require(IPHelperRequest(small).encoded)
        #expect(bytes == [1, 1, 1, 0, 3, 0] + Array("{a}".utf8) + [0, 0] + [1, 0, 0x78] + [2, 0, 0xC3, 0xA9] + [0, 0])
        #expect(IPHelperRequest(bytes)?.settings == small)
    }

    @Test func requestsRoundTripUpToTheirLimits() throws {
        #expect(IPHelperRequest(try #require(IPHelperRequest(Self.settings).encoded))?.settings == Self.settings)
        // 1024 host units of a three-byte character: the largest list a front end can decode.
        let wide = String(repeating: "€", count: 1024)
        let largest = HostIPSettings(adapterID: String(repeating: "€", count: 128), addresses: wide, subnets: wide,
                                     gateways: String(repeating: "€", count: 512), dnsServers: wide)
        let bytes = try #require(IPHelperRequest(largest).encoded)
        #expect(bytes.count == IPHelperRequest.maximumSize)
        #expect(IPHelperRequest(bytes)?.settings == largest)
        // One byte more does not encode; a NUL does not either.
        #expect(IPHelperRequest(HostIPSettings(adapterID: String(repeating: "a", count: 385))).encoded == nil)
        #expect(IPHelperRequest(HostIPSettings(adapterID: "{a}", gateways: String(repeating: "a", count: 1537))).encoded == nil)
        #expect(IPHelperRequest(HostIPSettings(adapterID: "{a}", addresses: "1.2.3.4\0")).encoded == nil)
    }

    @Test func everyTruncationAndExtensionOfARequestIsMalformed() throws {
        let bytes = try #require(IPHelperRequest(Self.settings).encoded)
        for count in 0..<bytes.count { #expect(IPHelperRequest(Array(bytes[..<count])) == nil, "\(count) bytes") }
        #expect(IPHelperRequest(bytes + [0]) == nil)
        #expect(IPHelperRequest([UInt8](repeating: 0, count: IPHelperRequest.maximumSize + 1)) == nil)
    }

    @Test func badRequestFieldsAreMalformed() throws {
        let bytes = try #require(IPHelperRequest(Self.settings).encoded)
        func changed(_ offset: Int, _ value: UInt8) -> [UInt8] { var b = bytes; b[offset] = value; return b }
        #expect(IPHelperRequest(changed(0, 2)) == nil)  // version
        #expect(IPHelperRequest(changed(2, 2)) == nil)  // DHCP flag
        #expect(IPHelperRequest(changed(3, 1)) == nil)  // reserved
        #expect(IPHelperRequest(changed(5, 0xFF)) == nil)  // adapter id length past the end
        #expect(IPHelperRequest(changed(6, 0)) == nil)  // NUL in the id
        #expect(IPHelperRequest(changed(6, 0xFF)) == nil)  // invalid UTF-8
        // A length over its limit, even with the bytes present.
        var long: [UInt8] = [1, 0, 0, 0, 0x81, 0x01] + [UInt8](repeating: 0x61, count: 385) + [0, 0, 0, 0, 0, 0, 0, 0]
        #expect(IPHelperRequest(long) == nil)
        long[4] = 0x80  // 384: at the limit
        #expect(IPHelperRequest(Array(long[..<6]) + [UInt8](repeating: 0x61, count: 384) + [0, 0, 0, 0, 0, 0, 0, 0])?.settings.adapterID.count == 384)
    }

    @Test func garbageNeverTraps() {
        var generator = SystemRandomNumberGenerator()
        var accepted = 0
        for _ in 0..<20_000 {
            let count = Int.random(in: 0..<64, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if count >= 4 && Bool.random(using: &generator) { bytes[0] = 1; bytes[3] = 0 }
            if IPHelperRequest(bytes) != nil { accepted += 1 }
            _ = IPHelperReply(bytes)
        }
        #expect(accepted < 20_000)
    }

    @Test func aReplyIsLaidOutAsDocumentedAndRoundTrips() {
        let outcome = IPInjector.Outcome(status: .guidNotFound, message: "no such adapter")
        let bytes = IPHelperReply(outcome).encoded
        #expect(bytes == [1, 0, 15, 0, 0x02, 0x10, 0x04, 0x80] + Array("no such adapter".utf8))
        #expect(IPHelperReply(bytes)?.outcome == outcome)
        for count in 0..<bytes.count { #expect(IPHelperReply(Array(bytes[..<count])) == nil, "\(count) bytes") }
        #expect(IPHelperReply(bytes + [0x61]) == nil)
        var badVersion = bytes; badVersion[0] = 2
        var reserved = bytes; reserved[1] = 1
        var invalid = bytes; invalid[8] = 0xFF
        #expect(IPHelperReply(badVersion) == nil)
        #expect(IPHelperReply(reserved) == nil)
        #expect(IPHelperReply(invalid) == nil)
        // A length over the limit with the bytes present.
        let over = [1, 0, 0x01, 0x10, 0, 0, 0, 0] + [UInt8](repeating: 0x61, count: 4097)
        #expect(IPHelperReply(over) == nil)
    }

    @Test func aLongMessageIsCutAtACharacterBoundary() throws {
        let outcome = IPInjector.Outcome(status: .fail, message: "x" + String(repeating: "€", count: 2000))
        let bytes = IPHelperReply(outcome).encoded
        #expect(bytes.count <= IPHelperReply.maximumSize)
        let decoded = try #require(IPHelperReply(bytes))
        #expect(decoded.outcome.status == .fail)
        #expect(decoded.outcome.message.utf8.count == 1 + 3 * 1365)
        #expect(outcome.message.hasPrefix(decoded.outcome.message))
    }
}
