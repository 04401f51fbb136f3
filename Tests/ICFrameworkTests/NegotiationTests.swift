import Testing
@testable import ICFramework
import HVProtocol

/// A service that counts resets and handles type 1 with 8-byte bodies, so framework
/// behaviour can be checked without a real service.
struct ProbeService: ICService {
    typealias Action = Int
    var name: String { "probe" }
    var serviceVersions: [ICVersion] { [ICVersion(3, 2), ICVersion(3, 0), ICVersion(1, 0)] }
    var resets = 0
    var handled = 0
    func minimumBodySize(for type: ICMessageType, version: ICVersion) -> Int? {
        type == .heartbeat ? 8 : nil
    }
    mutating func handle(_ request: ICRequest, version: ICVersion) -> ICHandled<Int> {
        handled += 1
        return ICHandled(status: .ok, body: request.body, action: handled)
    }
    mutating func reset() {
        resets += 1
        handled = 0
    }
}

/// Lays out a negotiate request by hand from docs/PROTOCOL.md §5.1, §5.2, §5.4.
func negotiateRequest(frameworks: [(UInt16, UInt16)], services: [(UInt16, UInt16)], transactionID: UInt8 = 0) -> [UInt8] {
    let bodySize = 8 + 4 * (frameworks.count + services.count)
    var bytes: [UInt8] = [
        0x01, 0x00, 0x00, 0x00,  // pipe type DATA
        UInt8(truncatingIfNeeded: 20 + bodySize), UInt8(truncatingIfNeeded: (20 + bodySize) >> 8), 0x00, 0x00,  // pipe msgsize
        0x00, 0x00, 0x00, 0x00,  // icverframe 0.0
        0x00, 0x00,  // icmsgtype NEGOTIATE
        0x00, 0x00, 0x00, 0x00,  // icvermsg 0.0
        UInt8(truncatingIfNeeded: bodySize), UInt8(truncatingIfNeeded: bodySize >> 8),  // icmsgsize
        0x00, 0x00, 0x00, 0x00,  // status
        transactionID, 0x03, 0x00, 0x00,  // transaction id, flags TRANSACTION|REQUEST, reserved
        UInt8(frameworks.count), 0x00, UInt8(services.count), 0x00,  // F, M
        0x00, 0x00, 0x00, 0x00,  // reserved
    ]
    for (major, minor) in frameworks + services {
        bytes += [UInt8(major), 0x00, UInt8(minor), 0x00]
    }
    return bytes
}

@Suite struct NegotiationTests {
    @Test func picksNewestGuestVersionAmongHostOffers() {
        // openvmm's shutdown host offers: framework 1.0, 3.0; service 1.0, 3.0, 3.1, 3.2.
        var endpoint = ICEndpoint(service: ProbeService())
        let request = negotiateRequest(frameworks: [(1, 0), (3, 0)], services: [(1, 0), (3, 0), (3, 1), (3, 2)])
        let outcome = endpoint.process(request)
        let expected: [UInt8] = [
            0x01, 0x00, 0x00, 0x00, 52, 0x00, 0x00, 0x00,  // pipe header echoed (msgsize 20 + 8 + 6 * 4)
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // versions 0.0 untouched, type 0
            0x10, 0x00,  // icmsgsize = 0x10
            0x00, 0x00, 0x00, 0x00,  // status as received
            0x00, 0x05, 0x00, 0x00,  // id echoed, flags TRANSACTION|RESPONSE
            0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,  // counts 1/1, reserved
            0x03, 0x00, 0x00, 0x00,  // framework 3.0
            0x03, 0x00, 0x02, 0x00,  // service 3.2
            0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,  // rest of the original list, echoed:
            0x03, 0x00, 0x01, 0x00, 0x03, 0x00, 0x02, 0x00,  // service 1.0, 3.0, 3.1, 3.2
        ]
        #expect(outcome.reply == expected)
        #expect(outcome.event == .negotiated(NegotiatedVersions(framework: ICVersion(3, 0), service: ICVersion(3, 2))))
        #expect(endpoint.negotiated?.service == ICVersion(3, 2))
    }

    @Test func frameworkNoMatchRepliesLikeLinux() {
        var endpoint = ICEndpoint(service: ProbeService())
        let outcome = endpoint.process(negotiateRequest(frameworks: [(2, 0)], services: [(3, 0), (1, 0)]))
        var expected = negotiateRequest(frameworks: [(2, 0)], services: [(3, 0), (1, 0)])
        expected[18] = 0x10  // icmsgsize
        expected[25] = 0x05  // flags
        expected[28...31] = [0, 0, 0, 0]  // counts 0/0
        expected[36...39] = [0x01, 0x00, 0x00, 0x00]  // version[0] = {F, 0}
        expected[40...43] = [0x02, 0x00, 0x00, 0x00]  // version[1] = {M, 0}
        #expect(outcome.reply == expected)
        #expect(outcome.event == .negotiationFailed)
        #expect(endpoint.negotiated == nil)
        #expect(endpoint.counters.failedNegotiations == 1)
    }

    @Test func serviceNoMatchKeepsChosenFramework() {
        var endpoint = ICEndpoint(service: ProbeService())
        let request = negotiateRequest(frameworks: [(3, 0)], services: [(9, 9), (2, 0), (0, 1)])
        let outcome = endpoint.process(request)
        var expected = request
        expected[18] = 0x10
        expected[25] = 0x05
        expected[28...31] = [0, 0, 0, 0]
        expected[36...39] = [0x03, 0x00, 0x00, 0x00]  // chosen framework 3.0
        expected[40...43] = [0x03, 0x00, 0x00, 0x00]  // {M = 3, 0}
        #expect(outcome.reply == expected)
        #expect(endpoint.negotiated == nil)
    }

    @Test func tooManyVersionsIsNoMatch() {
        // F = 101 exceeds IC_VERSION_NEGOTIATION_MAX_VER_COUNT even if the bytes are there.
        var endpoint = ICEndpoint(service: ProbeService())
        let frameworks = Array(repeating: (UInt16(3), UInt16(0)), count: 101)
        var request = negotiateRequest(frameworks: frameworks, services: [(3, 0)])
        let messageSize = 20 + 8 + 4 * 102
        request[4] = UInt8(messageSize & 0xff)
        request[5] = UInt8(messageSize >> 8)
        let outcome = endpoint.process(request)
        #expect(outcome.event == .negotiationFailed)
        #expect(outcome.reply.map { Array($0[28...43]) } == [0, 0, 0, 0, 0, 0, 0, 0, 101, 0, 0, 0, 1, 0, 0, 0])
    }

    @Test func listLongerThanBodyIsNoMatchAndNothingWrittenPastTheEnd() {
        // Counts claim 2 + 2 versions but the message ends after the fixed part + 2 bytes.
        var endpoint = ICEndpoint(service: ProbeService())
        var request = negotiateRequest(frameworks: [(3, 0), (1, 0)], services: [(3, 0), (1, 0)])
        request = Array(request.prefix(38))
        request[4] = 30  // pipe msgsize: 20 + 10
        let outcome = endpoint.process(request)
        #expect(outcome.event == .negotiationFailed)
        // Reply keeps the received length: counts 0/0 and only version[0].major fits ({F = 2}).
        #expect(outcome.reply?.count == 38)
        #expect(outcome.reply.map { Array($0[28...37]) } == [0, 0, 0, 0, 0, 0, 0, 0, 2, 0])
    }

    @Test func negotiateWithoutCountsIsDropped() {
        var endpoint = ICEndpoint(service: ProbeService())
        var request = Array(negotiateRequest(frameworks: [], services: []).prefix(31))
        request[4] = 23
        let outcome = endpoint.process(request)
        #expect(outcome.reply == nil)
        #expect(outcome.event == .dropped(.bodyTooShort(type: .negotiate, length: 3, required: 4)))
        #expect(endpoint.counters.dropped == 1)
    }

    @Test func everyNegotiateResetsServiceState() {
        var endpoint = ICEndpoint(service: ProbeService())
        _ = endpoint.process(negotiateRequest(frameworks: [(3, 0)], services: [(3, 0)]))
        #expect(endpoint.negotiated?.service == ICVersion(3, 0))
        let heartbeat = ICRequest.host(
            type: .heartbeat, framework: ICVersion(3, 0), version: ICVersion(3, 0), body: [UInt8](repeating: 0, count: 8))
        _ = endpoint.process(heartbeat.encoded())
        _ = endpoint.process(heartbeat.encoded())
        #expect(endpoint.service.handled == 2)
        // Renegotiation (e.g. after rescind/re-offer) to a different version, then a failed one.
        _ = endpoint.process(negotiateRequest(frameworks: [(1, 0)], services: [(1, 0)]))
        #expect(endpoint.service.resets == 2)
        #expect(endpoint.service.handled == 0)
        #expect(endpoint.negotiated == NegotiatedVersions(framework: ICVersion(1, 0), service: ICVersion(1, 0)))
        _ = endpoint.process(negotiateRequest(frameworks: [(1, 0)], services: [(7, 0)]))
        #expect(endpoint.negotiated == nil)
        #expect(endpoint.counters.negotiations == 3)
    }

    @Test func guestListsAreStrictlyNewestFirst() {
        for list in ICServiceID.allCases.flatMap({ [$0.frameworkVersions, $0.serviceVersions] }) {
            #expect(zip(list, list.dropFirst()).allSatisfy { $0 > $1 })
        }
    }

    @Test func negotiateBodyRoundTrips() {
        let body = NegotiateBody(frameworkVersions: [ICVersion(1, 0), ICVersion(3, 0)], serviceVersions: [ICVersion(4, 0)])
        var bytes: [UInt8] = []
        body.encode(into: &bytes)
        #expect(bytes == [2, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0])
        #expect(NegotiateBody.decode(bytes) == body)
        #expect(NegotiateBody.decode(Array(bytes.dropLast())) == nil)
    }
}

@Suite struct ICServiceIDTests {
    /// Class and instance GUIDs parse (a typo would give the null GUID) and are all distinct; each
    /// service's class is its row of the VMBus class table.
    @Test func guidsAreWellFormedAndDistinct() {
        let guids = ICServiceID.allCases.flatMap { [$0.classID, $0.instanceID] }
        #expect(!guids.contains(.null))
        #expect(Set(guids).count == guids.count)
        for service in ICServiceID.allCases {
            #expect(VMBusDeviceClass.lookup(service.classID) == service.deviceClass)
            #expect(ICServiceID(classID: service.classID) == service)
            #expect(service.deviceClass.name == service.rawValue)
        }
        #expect(ICServiceID(classID: VMBusDeviceClass.netvsc.classID) == nil)
    }
}
