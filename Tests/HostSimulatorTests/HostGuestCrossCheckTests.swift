import Heartbeat
import HostSimulator
import HVProtocol
import HVSystem
import ICFramework
import KVPAgent
import ShutdownSvc
import Testing
import TestSupport
import Timesync

/// The host's encodings through the guest's decoders, and the guest's replies through the host's
/// checks. The two sides share no codec, so agreement here means both read the same table.
@Suite struct HostGuestCrossCheckTests {
    @Test(arguments: ICServiceID.allCases)
    func guestFrameworkParsesTheHostsRequests(kind: ICServiceID) throws {
        var host = HostICChannel(kind: kind, offer: .windows(kind))
        let negotiate = try ICRequest.parse(host.negotiateRequest()) { _ in 0 }
        #expect(negotiate.header.messageType == .negotiate)
        #expect(negotiate.header.flags == .hostRequest)
        #expect(negotiate.header.transactionID == 0)
        // The guest's negotiation answers from the host's lists; the host reads the answer.
        let (replyBody, guestResult) = ICNegotiation.replyBody(
            for: negotiate.body, guestFrameworks: kind.frameworkVersions, guestServices: kind.serviceVersions)
        let agreed = try #require(guestResult)
        let reply = negotiate.reply(status: .ok, body: replyBody, messageSize: ICNegotiation.replyMessageSize)
        #expect(host.accept(reply) == .negotiated(NegotiatedVersions(framework: agreed.framework, service: agreed.service)))

        let body: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        let request = try ICRequest.parse(try host.request(type: .heartbeat, body: body)) { _ in 0 }
        #expect(request.header.frameworkVersion == agreed.framework)
        #expect(request.header.messageVersion == agreed.service)
        #expect(request.header.messageSize == 8)
        #expect(request.body == body)
    }

    @Test func heartbeatGuestAnswersTheHostsBody() throws {
        var guest = ICEndpoint(service: HeartbeatService())
        var host = HostICChannel(kind: .heartbeat, offer: .windows(.heartbeat))
        _ = host.accept(guest.process(host.negotiateRequest()).reply ?? [])
        for size in [16, 40] {
            var logic = HeartbeatHostLogic(firstSequence: UInt64(size) << 40, bodySize: size)
            let outcome = guest.process(try host.request(type: .heartbeat, body: logic.requestBody()))
            #expect(guest.service.lastSequence == UInt64(size) << 40)
            guard case .response(let header, let body) = host.accept(outcome.reply ?? []) else { Issue.record("no reply"); return }
            #expect(body.count == size)
            #expect(logic.check(status: header.status, body: body) == .ok(sequence: UInt64(size) << 40, applicationState: 0))
        }
    }

    @Test(arguments: [(UInt32(0), ShutdownRequest.Kind.powerOff), (1, .powerOff), (2, .reboot), (3, .reboot)])
    func shutdownGuestDecodesTheHostsBody(flags: UInt32, kind: ShutdownRequest.Kind) throws {
        let body = ShutdownHostLogic.requestBody(flags: flags, reason: 0x8000_0004, timeoutSeconds: 45, message: "maintenance \u{00E9}t\u{00E9}")
        let message = try #require(ShutdownMessage.decode(body))
        #expect(message.reasonCode == 0x8000_0004)
        #expect(message.timeoutSeconds == 45)
        #expect(message.flags == flags)
        #expect(message.displayText == "maintenance \u{00E9}t\u{00E9}")

        var guest = ICEndpoint(service: ShutdownService(hibernation: NoHibernation()))
        var host = HostICChannel(kind: .shutdown, offer: .windows(.shutdown))
        _ = host.accept(guest.process(host.negotiateRequest()).reply ?? [])
        let outcome = guest.process(try host.request(type: .shutdown, body: body))
        #expect(outcome.action == ShutdownRequest(kind: kind, reasonCode: 0x8000_0004, timeoutSeconds: 45, message: "maintenance \u{00E9}t\u{00E9}"))
        guard case .response(let header, _) = host.accept(outcome.reply ?? []) else { Issue.record("no reply"); return }
        #expect(header.status == .ok)
    }

    @Test(arguments: [ICVersion(1, 0), ICVersion(3, 0), ICVersion(4, 0)])
    func timesyncGuestDecodesTheHostsBody(version: ICVersion) throws {
        let sample = HostTimesyncSample(parentTime: 0x01DC_0000_1234_5678, referenceTime: 0x0000_00AB_CDEF_0123,
                                        flags: .sync, leapIndicator: 2, stratum: 3)
        let body = sample.body(version: version)
        #expect(body.count >= TimesyncMessage.requiredSize(version: version))
        let decoded = try #require(TimesyncMessage.decode(body, version: version))
        #expect(decoded.parentTime == sample.parentTime)
        #expect(decoded.flags == .sync)
        if version >= ICVersion(4, 0) {
            #expect(decoded.referenceTime == sample.referenceTime)
            #expect(decoded.leapIndicator == 2)
            #expect(decoded.stratum == 3)
        } else {
            #expect(decoded.referenceTime == nil)
        }
    }

    @Test func timesyncHostLogicThroughTheGuestService() throws {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source, initialOffsetNanoseconds: 2_000_000_000)
        var guest = ICEndpoint(service: TimesyncService(mode: .discipline, clock: clock))
        var host = HostICChannel(kind: .timesync, offer: .timesyncV3)
        guard case .negotiated(let versions) = host.accept(guest.process(host.negotiateRequest()).reply ?? []) else {
            Issue.record("negotiation"); return
        }
        #expect(versions.service == ICVersion(3, 0))
        var logic = TimesyncHostLogic(source: source)
        let outcome = guest.process(try host.request(type: .timesync, body: logic.nextMessage(version: versions.service).body(version: versions.service)))
        guard case .step(let delta, .sync) = outcome.action else { Issue.record("no step: \(String(describing: outcome.action))"); return }
        #expect(delta == -2_000_000_000)
    }

    @Test func kvpGuestDecodesTheHostsBodies() throws {
        let set = try #require(HostMessage(bytes: try KVPHostLogic.setBody(pool: 1, key: "ab", value: "x\u{00FF}z")))
        #expect(set.request() == .set(pool: 1, key: Array("ab".utf8), value: Array("x\u{00FF}z".utf8)))
        let get = try #require(HostMessage(bytes: try KVPHostLogic.getBody(pool: 3, key: "key")))
        #expect(get.request() == .get(pool: 3, key: Array("key".utf8)))
        let delete = try #require(HostMessage(bytes: try KVPHostLogic.deleteBody(pool: 0, key: "gone")))
        #expect(delete.request() == .delete(pool: 0, key: Array("gone".utf8)))
        let enumerate = try #require(HostMessage(bytes: KVPHostLogic.enumerateBody(pool: 2, index: 41)))
        #expect(enumerate.request() == .enumerate(pool: 2, index: 41))
        let ipInfo = try #require(HostMessage(bytes: try KVPHostLogic.getIPInfoBody(mac: "00:15:5D:00:00:01")))
        #expect(ipInfo.request() == .getIPInfo(adapterID: "00:15:5D:00:00:01"))
    }

    @Test func kvpHostReadsTheGuestsReplies() throws {
        var enumerate = try #require(HostMessage(bytes: KVPHostLogic.enumerateBody(pool: 1, index: 0)))
        #expect(enumerate.encodeReply(.record(key: Array("name".utf8), value: Array("v\u{00E4}lue".utf8)), for: enumerate.request()) == .ok)
        #expect(try KVPHostLogic.enumeratedRecord(enumerate.bytes) == KVPHostRecord(key: "name", value: "v\u{00E4}lue"))

        var get = try #require(HostMessage(bytes: try KVPHostLogic.getBody(pool: 1, key: "name")))
        #expect(get.encodeReply(.record(key: Array("name".utf8), value: Array("answer".utf8)), for: get.request()) == .ok)
        #expect(try KVPHostLogic.getValue(get.bytes) == "answer")
    }
}
