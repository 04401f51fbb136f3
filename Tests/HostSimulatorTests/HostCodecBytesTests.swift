import HostSimulator
import HVProtocol
import Testing

/// The host's codecs against bytes laid out by hand from the layout tables (docs/PROTOCOL.md §5-§7,
/// Linux include/linux/hyperv.h and include/uapi/linux/hyperv.h, openvmm
/// vm/devices/hyperv_ic_protocol/src/lib.rs). Nothing here calls a guest decoder: the expected
/// bytes are the reference.
@Suite struct HostCodecBytesTests {
    /// Little-endian bytes of `value`, `count` of them.
    static func le(_ value: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    /// UTF-16LE bytes of ASCII `text`.
    static func utf16(_ text: String) -> [UInt8] {
        text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    }

    // MARK: Framing and negotiation (§5)

    @Test func negotiateRequestMatchesTheTable() {
        var host = HostICChannel(kind: .heartbeat, offer: .windows(.heartbeat))
        let expected: [UInt8] =
            [1, 0, 0, 0] + [44, 0, 0, 0]            // pipe: DATA, 20 + 24 bytes
            + [0, 0, 0, 0] + [0, 0] + [0, 0, 0, 0]  // icverframe 0.0, NEGOTIATE, icvermsg 0.0
            + [24, 0] + [0, 0, 0, 0]                // icmsgsize 24, status S_OK
            + [0] + [0x03] + [0, 0]                 // transaction 0, TRANSACTION|REQUEST, reserved
            + [2, 0, 2, 0, 0, 0, 0, 0]              // 2 framework, 2 service versions, reserved
            + [1, 0, 0, 0, 3, 0, 0, 0]              // frameworks 1.0, 3.0 (openvmm order)
            + [1, 0, 0, 0, 3, 0, 0, 0]              // services 1.0, 3.0
        #expect(host.negotiateRequest() == expected)
    }

    /// A guest's NEGOTIATE answer as Linux writes it: the request body in place, counts 1/1,
    /// chosen versions at +8 and +12, icmsgsize 0x10, flags TRANSACTION|RESPONSE.
    static func negotiateReply(framework: (UInt8, UInt8), service: (UInt8, UInt8), counts: UInt8 = 1,
                               flags: UInt8 = 0x05, transaction: UInt8 = 0) -> [UInt8] {
        [1, 0, 0, 0] + [44, 0, 0, 0]
            + [0, 0, 0, 0] + [0, 0] + [0, 0, 0, 0] + [0x10, 0] + [0, 0, 0, 0] + [transaction, flags, 0, 0]
            + [counts, 0, counts, 0, 0, 0, 0, 0]
            + [framework.0, 0, framework.1, 0] + [service.0, 0, service.1, 0]
            + [1, 0, 0, 0, 3, 0, 0, 0]
    }

    @Test func negotiateReplyIsReadFromItsOffsets() {
        var host = HostICChannel(kind: .heartbeat, offer: .windows(.heartbeat))
        _ = host.negotiateRequest()
        #expect(host.accept(Self.negotiateReply(framework: (3, 0), service: (3, 0)))
            == .negotiated(NegotiatedVersions(framework: ICVersion(3, 0), service: ICVersion(3, 0))))

        var refused = HostICChannel(kind: .heartbeat, offer: .windows(.heartbeat))
        _ = refused.negotiateRequest()
        #expect(refused.accept(Self.negotiateReply(framework: (3, 0), service: (3, 0), counts: 0))
            == .negotiationFailed("no supported versions"))

        // A version the host never offered is not accepted, even with counts 1/1.
        var invented = HostICChannel(kind: .heartbeat, offer: .windows(.heartbeat))
        _ = invented.negotiateRequest()
        #expect(invented.accept(Self.negotiateReply(framework: (3, 0), service: (2, 0)))
            == .negotiationFailed("no supported versions"))
    }

    @Test func replyFramingIsCheckedAsOpenvmmChecksIt() {
        func negotiating() -> HostICChannel {
            var host = HostICChannel(kind: .heartbeat, offer: .windows(.heartbeat))
            _ = host.negotiateRequest()
            return host
        }
        var noResponseBit = negotiating()
        guard case .protocolError = noResponseBit.accept(Self.negotiateReply(framework: (3, 0), service: (3, 0), flags: 0x01))
        else { Issue.record("flags 0x01 accepted"); return }
        var otherTransaction = negotiating()
        guard case .protocolError = otherTransaction.accept(Self.negotiateReply(framework: (3, 0), service: (3, 0), transaction: 9))
        else { Issue.record("transaction 9 accepted"); return }
        var notData = negotiating()
        var bytes = Self.negotiateReply(framework: (3, 0), service: (3, 0))
        bytes[0] = 2
        #expect(throws: HostFrameError.notDataMessage(pipeType: 2)) { try HostICFrame.parse(bytes) }
        guard case .protocolError = notData.accept(bytes) else { Issue.record("pipe type 2 accepted"); return }
        // icmsgsize (+18) past the pipe message.
        bytes = Self.negotiateReply(framework: (3, 0), service: (3, 0))
        bytes[18] = 25
        #expect(throws: HostFrameError.badMessageSize(declared: 25, available: 24)) { try HostICFrame.parse(bytes) }
        #expect(throws: HostFrameError.shorterThanHeaders(length: 27)) { try HostICFrame.parse(Array(bytes.prefix(27))) }
        // The body is what icmsgsize declares; ring padding after the message is not body.
        bytes = Self.negotiateReply(framework: (3, 0), service: (3, 0)) + [0xEE, 0xEE, 0xEE, 0xEE]
        #expect((try? HostICFrame.parse(bytes))?.body.count == 16)
    }

    // MARK: Heartbeat (§6.1)

    @Test func heartbeatRequestAndReplyCheck() throws {
        var host = HostICChannel(kind: .heartbeat, offer: .windows(.heartbeat))
        _ = host.negotiateRequest()
        _ = host.accept(Self.negotiateReply(framework: (3, 0), service: (3, 0)))
        var logic = HeartbeatHostLogic(firstSequence: 0x1122_3344_5566_7788, bodySize: 16)
        let request = try host.request(type: .heartbeat, body: logic.requestBody())
        let header: [UInt8] =
            [1, 0, 0, 0] + [36, 0, 0, 0]            // pipe: DATA, 20 + 16 bytes
            + [3, 0, 0, 0] + [1, 0] + [3, 0, 0, 0]  // framework 3.0, HEARTBEAT, service 3.0
            + [16, 0] + [0, 0, 0, 0] + [0, 0x03, 0, 0]
        #expect(request == header + [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11] + [UInt8](repeating: 0, count: 8))

        // The reply: sequence + 1 at +0, application_state 1 (healthy) at +8.
        var reply = request
        reply[25] = 0x05
        reply.replaceSubrange(28..<40, with: Self.le(0x1122_3344_5566_7789, 8) + Self.le(1, 4))
        guard case .response(let replyHeader, let body) = host.accept(reply) else { Issue.record("no response"); return }
        #expect(logic.check(status: replyHeader.status, body: body) == .ok(sequence: 0x1122_3344_5566_7788, applicationState: 1))
        #expect(HeartbeatHostLogic.applicationStateName(1) == "healthy")

        // Echoing the number instead of adding one is caught.
        _ = try host.request(type: .heartbeat, body: logic.requestBody())
        reply.replaceSubrange(28..<36, with: Self.le(0x1122_3344_5566_7789, 8))
        guard case .response(_, let echoed) = host.accept(reply) else { Issue.record("no response"); return }
        #expect(logic.check(status: .ok, body: echoed) == .wrongSequence(sent: 0x1122_3344_5566_7789, received: 0x1122_3344_5566_7789))
    }

    @Test func heartbeatBodyAtLinuxSize() {
        var logic = HeartbeatHostLogic(firstSequence: 5, bodySize: 40)
        #expect(logic.requestBody() == Self.le(5, 8) + [UInt8](repeating: 0, count: 32))
        var tiny = HeartbeatHostLogic(firstSequence: 6, bodySize: 2)
        #expect(tiny.requestBody() == Self.le(6, 8))
    }

    // MARK: Shutdown (§6.2)

    @Test func shutdownBodyMatchesTheTable() {
        let body = ShutdownHostLogic.requestBody(flags: 0x5, reason: 0x8000_1234, timeoutSeconds: 30, message: "Hi\u{20AC}")
        var expected = Self.le(0x8000_1234, 4) + Self.le(30, 4) + Self.le(5, 4) + [0x48, 0, 0x69, 0, 0xAC, 0x20]
        expected += [UInt8](repeating: 0, count: 2060 - expected.count)
        #expect(body == expected)
        #expect(ShutdownHostLogic.requestBody(flags: 0) == Self.le(0x8000_0000, 4) + [UInt8](repeating: 0, count: 2056))
        // A message longer than the field keeps a NUL at the end (1023 units).
        let long = ShutdownHostLogic.requestBody(flags: 0, message: String(repeating: "x", count: 2000))
        #expect(long.count == 2060)
        #expect(long[2056...2057] == [0x78, 0])
        #expect(long[2058...2059] == [0, 0])
    }

    // MARK: Timesync (§6.3)

    @Test func timesyncV4BodyIsIctimesyncRefData() {
        let sample = HostTimesyncSample(parentTime: 0x0102_0304_0506_0708, referenceTime: 0x1112_1314_1516_1718,
                                        flags: .sample, leapIndicator: 1, stratum: 2)
        let expected = Self.le(0x0102_0304_0506_0708, 8) + Self.le(0x1112_1314_1516_1718, 8)
            + [2, 1, 2] + [0, 0, 0] + [0, 0]        // flags, leapflags, stratum, reserved[3], padding
        #expect(sample.body(version: ICVersion(4, 0)) == expected)
    }

    @Test func timesyncV3BodyIsIctimesyncData() {
        let sample = HostTimesyncSample(parentTime: 0x0102_0304_0506_0708, referenceTime: 0x1112_1314_1516_1718,
                                        flags: .sync, leapIndicator: 1, stratum: 2)
        let expected = Self.le(0x0102_0304_0506_0708, 8) + Self.le(0, 8) + Self.le(0, 8)  // parent, child, round trip
            + [1] + [0, 0, 0]                                                             // flags, padding
        #expect(sample.body(version: ICVersion(3, 0)) == expected)
        #expect(sample.body(version: ICVersion(1, 0)) == expected)
    }

    // MARK: KVP (§7)

    @Test func kvpSetGetDeleteEnumerateBodies() throws {
        func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }
        var set = [1, 1, 0, 0] + Self.le(1, 4) + Self.le(6, 4) + Self.le(8, 4) + Self.utf16("ab")
        set += zeros(528 - set.count) + Self.utf16("xyz")
        set += zeros(2580 - set.count)
        #expect(try KVPHostLogic.setBody(pool: 1, key: "ab", value: "xyz") == set)

        var get = [0, 3, 0, 0] + Self.le(1, 4) + Self.le(6, 4) + Self.le(0, 4) + Self.utf16("ab")
        get += zeros(2580 - get.count)
        #expect(try KVPHostLogic.getBody(pool: 3, key: "ab") == get)

        var delete = [2, 0, 0, 0] + Self.le(6, 4) + Self.utf16("ab")
        delete += zeros(2580 - delete.count)
        #expect(try KVPHostLogic.deleteBody(pool: 0, key: "ab") == delete)

        #expect(KVPHostLogic.enumerateBody(pool: 2, index: 7) == [3, 2, 0, 0] + Self.le(7, 4) + zeros(2572))

        var ipInfo = [4, 1] + Self.utf16("00:15:5D:00:00:01")
        ipInfo += zeros(7428 - ipInfo.count)
        #expect(try KVPHostLogic.getIPInfoBody(mac: "00:15:5D:00:00:01") == ipInfo)

        #expect(throws: KVPHostError.self) { try KVPHostLogic.setBody(pool: 0, key: String(repeating: "k", count: 256), value: "") }
    }

    @Test func kvpRepliesAreReadFromTheirOffsets() throws {
        var enumerated = [UInt8](repeating: 0, count: 2580)
        enumerated[0] = 3
        enumerated.replaceSubrange(12..<20, with: Self.le(6, 4) + Self.le(4, 4))  // key_size, value_size
        enumerated.replaceSubrange(20..<24, with: Self.utf16("ab"))
        enumerated.replaceSubrange(532..<534, with: Self.utf16("v"))
        #expect(try KVPHostLogic.enumeratedRecord(enumerated) == KVPHostRecord(key: "ab", value: "v"))

        var got = [UInt8](repeating: 0, count: 2580)
        got.replaceSubrange(12..<16, with: Self.le(8, 4))                         // value_size
        got.replaceSubrange(528..<534, with: Self.utf16("xyz"))
        #expect(try KVPHostLogic.getValue(got) == "xyz")
        #expect(throws: KVPHostError.shortReply(100)) { try KVPHostLogic.getValue(Array(got.prefix(100))) }
    }
}
