import Testing
@testable import ICFramework
import RingTransport
import HVProtocol

@Suite struct FramingTests {
    /// A heartbeat-type request laid out by hand (docs/PROTOCOL.md §5.1, §5.2, §6.1) with a nonzero id.
    let request: [UInt8] = [
        0x01, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00,  // pipe DATA, msgsize 28 (20 + 8)
        0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00,  // fw 3.0, type 1, msg 3.0
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00,  // icmsgsize 8, status 0
        0x42, 0x03, 0x00, 0x00,  // id 0x42, flags 0x03
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // body
    ]

    @Test func headersDecodeFieldByField() throws {
        let parsed = try ICRequest.parse(request) { _ in 8 }
        #expect(parsed.pipe == PipeHeader(packetType: 1, messageSize: 28))
        #expect(parsed.header.frameworkVersion == ICVersion(3, 0))
        #expect(parsed.header.messageType == .heartbeat)
        #expect(parsed.header.messageVersion == ICVersion(3, 0))
        #expect(parsed.header.messageSize == 8)
        #expect(parsed.header.transactionID == 0x42)
        #expect(parsed.header.flags == .hostRequest)
        #expect(parsed.body == [7, 0, 0, 0, 0, 0, 0, 0])
        #expect(parsed.encoded() == request)
    }

    @Test func replyEchoesPipeHeaderAndTransactionID() throws {
        let parsed = try ICRequest.parse(request) { _ in 8 }
        var expected = request
        expected[25] = 0x05
        expected[20...23] = [0x05, 0x40, 0x00, 0x80]  // E_FAIL little-endian
        #expect(parsed.reply(status: .fail, body: parsed.body) == expected)
    }

    @Test func unknownTypeGetsEFail() {
        var endpoint = ICEndpoint(service: ProbeService())
        var unknown = request
        unknown[12] = 0x09  // type 9
        let outcome = endpoint.process(unknown)
        var expected = unknown
        expected[25] = 0x05
        expected[20...23] = [0x05, 0x40, 0x00, 0x80]
        #expect(outcome.reply == expected)
        #expect(outcome.event == .unknownType(ICMessageType(rawValue: 9)))
        #expect(endpoint.counters.unknownTypes == 1)
    }

    @Test func ringPaddingAfterTheMessageIsIgnored() throws {
        let padded = request + [0xee, 0xee, 0xee, 0xee]
        let parsed = try ICRequest.parse(padded) { _ in 8 }
        #expect(parsed.body.count == 8)
        #expect(parsed.reply(status: .ok, body: parsed.body).count == request.count)
    }

    @Test func malformedPacketsAreDroppedAndCounted() {
        var endpoint = ICEndpoint(service: ProbeService())
        var notData = request
        notData[0] = 2
        var tooLong = request
        tooLong[4] = 0x1d
        var tooSmall = request
        tooSmall[4] = 19
        var huge = request
        huge[6] = 0x01  // 65564 > 16384
        var shortBody = request
        shortBody[4] = 27
        let cases: [([UInt8], ICParseError)] = [
            ([], .shorterThanHeaders(length: 0)),
            (Array(request.prefix(27)), .shorterThanHeaders(length: 27)),
            (notData, .notDataMessage(pipeType: 2)),
            (tooLong, .badPipeSize(declared: 29, available: 28)),
            (tooSmall, .badPipeSize(declared: 19, available: 28)),
            (huge, .badPipeSize(declared: 65564, available: 28)),
            (shortBody, .bodyTooShort(type: .heartbeat, length: 7, required: 8)),
        ]
        for (bytes, error) in cases {
            let outcome = endpoint.process(bytes)
            #expect(outcome.reply == nil)
            #expect(outcome.event == .dropped(error))
        }
        #expect(endpoint.counters.dropped == cases.count)
        #expect(endpoint.counters.replied == 0)
    }

    @Test func guidTextAndWireOrder() throws {
        let guid = ICServiceID.timesync.classID
        let hex = guid.bytes.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        #expect(hex == "30e62795aed07b49adcee80ab0175caf")  // modalias, docs/PROTOCOL.md §4.3
        #expect(guid.description == "9527e630-d0ae-497b-adce-e80ab0175caf")
        #expect(HVProtocol.VMBusGUID("{57164F39-9115-4E78-AB55-382F3BD5422D}") == ICServiceID.heartbeat.classID)
        #expect(HVProtocol.VMBusGUID("not-a-guid") == nil)
    }

    @Test func hresultValues() {
        #expect(HResult.fail.rawValue == 0x8000_4005)
        #expect(HResult.ok.isSuccess)
        #expect(!HResult.fail.isSuccess)
    }
}
