import Heartbeat
import ICFramework
import Testing
import HVProtocol

/// Header bytes for a host request, laid out from docs/PROTOCOL.md §5.1/§5.2.
func hostHeader(type: UInt8, framework: UInt8 = 3, version: (UInt8, UInt8), bodySize: Int) -> [UInt8] {
    let messageSize = 20 + bodySize
    return [
        0x01, 0x00, 0x00, 0x00,  // pipe: DATA
        UInt8(messageSize & 0xff), UInt8(messageSize >> 8), 0x00, 0x00,  // pipe: msgsize
        framework, 0x00, 0x00, 0x00,  // icverframe
        type, 0x00,  // icmsgtype
        version.0, 0x00, version.1, 0x00,  // icvermsg
        UInt8(bodySize & 0xff), UInt8(bodySize >> 8),  // icmsgsize
        0x00, 0x00, 0x00, 0x00,  // status
        0x00, 0x03, 0x00, 0x00,  // transaction id, flags 0x03, reserved
    ]
}

/// The expected reply header: same bytes, flags 0x05, status as given (LE).
func replyHeader(_ request: [UInt8], status: UInt32 = 0) -> [UInt8] {
    var header = Array(request.prefix(28))
    header[20] = UInt8(status & 0xff)
    header[21] = UInt8((status >> 8) & 0xff)
    header[22] = UInt8((status >> 16) & 0xff)
    header[23] = UInt8(status >> 24)
    header[25] = 0x05
    return header
}

struct FixedHealth: HealthProbe {
    let state: ApplicationState
    func applicationState() -> ApplicationState? { state }
}

@Suite struct HeartbeatTests {
    @Test func incrementsSequenceAndEchoesEverythingElse() {
        var endpoint = ICEndpoint(service: HeartbeatService())
        // openvmm HeartbeatMessage: seq u64, application_state u32, reserved[4] u8.
        let body: [UInt8] = [0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0xaa, 0xbb, 0xcc, 0xdd]
        let request = hostHeader(type: 1, version: (3, 0), bodySize: body.count) + body
        let outcome = endpoint.process(request)
        let expectedBody: [UInt8] = [0x09, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0xaa, 0xbb, 0xcc, 0xdd]
        #expect(outcome.reply == replyHeader(request) + expectedBody)
        #expect(endpoint.service.lastSequence == 0x0102_0304_0506_0708)
    }

    @Test func linuxSizedBodyAndWrap() {
        var endpoint = ICEndpoint(service: HeartbeatService())
        let body = [UInt8](repeating: 0xff, count: 8) + [UInt8](repeating: 0, count: 32)
        let request = hostHeader(type: 1, version: (3, 0), bodySize: 40) + body
        let outcome = endpoint.process(request)
        #expect(outcome.reply == replyHeader(request) + [UInt8](repeating: 0, count: 40))
    }

    @Test func eightByteBodyIsEnoughSevenIsDropped() {
        var endpoint = ICEndpoint(service: HeartbeatService())
        let ok = hostHeader(type: 1, version: (3, 0), bodySize: 8) + [1, 0, 0, 0, 0, 0, 0, 0]
        #expect(endpoint.process(ok).reply == replyHeader(ok) + [2, 0, 0, 0, 0, 0, 0, 0])
        let short = hostHeader(type: 1, version: (3, 0), bodySize: 7) + [1, 0, 0, 0, 0, 0, 0]
        #expect(endpoint.process(short).reply == nil)
        #expect(endpoint.counters.dropped == 1)
    }

    @Test func otherTypesGetEFailEcho() {
        var endpoint = ICEndpoint(service: HeartbeatService())
        let request = hostHeader(type: 3, version: (3, 0), bodySize: 8) + [5, 0, 0, 0, 0, 0, 0, 0]
        #expect(endpoint.process(request).reply == replyHeader(request, status: 0x8000_4005) + [5, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func healthProbeFillsApplicationStateOnlyWhenConfigured() {
        var endpoint = ICEndpoint(service: HeartbeatService(healthProbe: FixedHealth(state: .critical)))
        let body: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        let request = hostHeader(type: 1, version: (3, 0), bodySize: 16) + body
        let reply = endpoint.process(request).reply
        #expect(reply.map { Array($0[28...]) } == [2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])
        // With an 8-byte body there is no field to fill: nothing is appended.
        let short = hostHeader(type: 1, version: (3, 0), bodySize: 8) + [1, 0, 0, 0, 0, 0, 0, 0]
        #expect(endpoint.process(short).reply?.count == 36)
    }

    /// The daemon's probe holder: nothing configured echoes the host's value (as Linux does); a
    /// reload swaps the probe under the open channel and the next reply carries the new state.
    @Test func replaceableProbeSwapsUnderAnOpenChannel() {
        let holder = ReplaceableHealthProbe(nil)
        var endpoint = ICEndpoint(service: HeartbeatService(healthProbe: holder))
        func state(sequence: UInt8) -> [UInt8]? {
            let body: [UInt8] = [sequence, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]
            return endpoint.process(hostHeader(type: 1, version: (3, 0), bodySize: 16) + body).reply.map { Array($0[36..<40]) }
        }
        #expect(state(sequence: 1) == [7, 0, 0, 0])
        holder.replace(with: FixedHealth(state: .critical))
        #expect(state(sequence: 2) == [2, 0, 0, 0])
        holder.replace(with: FixedHealth(state: .healthy))
        #expect(state(sequence: 3) == [1, 0, 0, 0])
        holder.replace(with: nil)
        #expect(state(sequence: 4) == [7, 0, 0, 0])
    }

    /// The command runs in the background: the answer is there once the loop handled its end.
    @Test func commandProbeMapsExitStatus() {
        #expect(ProbeLoop.answer(CommandHealthProbe(executable: "/bin/true", arguments: [])) == .healthy)
        #expect(ProbeLoop.answer(CommandHealthProbe(executable: "/bin/false", arguments: [])) == .critical)
        #expect(ProbeLoop.answer(CommandHealthProbe(executable: "/nonexistent/probe", arguments: [])) == .unknown)
    }

    @Test func negotiatesHeartbeatVersions() {
        var endpoint = ICEndpoint(service: HeartbeatService())
        var body: [UInt8] = [2, 0, 2, 0, 0, 0, 0, 0]
        body += [1, 0, 0, 0, 3, 0, 0, 0]  // framework 1.0, 3.0
        body += [1, 0, 0, 0, 3, 0, 0, 0]  // heartbeat 1.0, 3.0
        let request = hostHeader(type: 0, framework: 0, version: (0, 0), bodySize: body.count) + body
        let outcome = endpoint.process(request)
        #expect(outcome.event == .negotiated(NegotiatedVersions(framework: ICVersion(3, 0), service: ICVersion(3, 0))))
    }
}
