import Testing
import HVProtocol
@testable import ICFramework
@testable import VSS

/// Every VSS message laid out by hand from docs/PROTOCOL.md §6.5.3 and §6.5.6 (P+n = payload byte n).
func vssPacket(operation: UInt8, flags: UInt32 = 0, extra: [UInt8] = [], transactionID: UInt8 = 0,
               framework: (UInt8, UInt8) = (3, 0), version: (UInt8, UInt8) = (5, 0)) -> [UInt8] {
    let body: [UInt8] = [operation, 0, 0, 0, 0, 0, 0, 0,  // P+28 operation, P+29..35 reserved
                         UInt8(flags & 0xff), UInt8(flags >> 8 & 0xff), UInt8(flags >> 16 & 0xff), UInt8(flags >> 24)] + extra  // P+36 flags
    let size = 20 + body.count
    return [0x01, 0x00, 0x00, 0x00,  // P+0 pipe DATA
            UInt8(size & 0xff), UInt8(size >> 8), 0x00, 0x00,  // P+4 msgsize
            framework.0, 0x00, framework.1, 0x00,  // P+8 icverframe
            0x05, 0x00,  // P+12 icmsgtype VSS
            version.0, 0x00, version.1, 0x00,  // P+14 icvermsg
            UInt8(body.count & 0xff), UInt8(body.count >> 8),  // P+18 icmsgsize
            0x00, 0x00, 0x00, 0x00,  // P+20 status
            transactionID, 0x03, 0x00, 0x00] + body  // P+24 id, flags, reserved
}

@Suite struct VSSWireTests {
    @Test func operationCodes() {
        let expected: [(VSSOperation, UInt8)] = [(.create, 0), (.delete, 1), (.hotBackup, 2), (.getDMInfo, 3), (.backupComplete, 4),
                                                 (.freeze, 5), (.thaw, 6), (.autoRecover, 7), (.queryGuestClusterInformation, 8),
                                                 (.register, 128), (.register1, 129)]
        for (operation, raw) in expected { #expect(operation.rawValue == raw) }
        #expect(VSSOperation(rawValue: 200).description == "op-200")
    }

    @Test func identityAndVersions() {
        #expect(ICServiceID.vss.classID == VMBusGUID("35fa2e29-ea23-4236-96ae-3a6ebacba440"))
        #expect(ICServiceID.vss.instanceID == VMBusGUID("2450ee40-33bf-4fbd-892e-9fb06e9214cf"))
        #expect(ICServiceID.vss.frameworkVersions == [ICVersion(3, 0)])
        #expect(ICServiceID.vss.serviceVersions == [ICVersion(5, 0)])
        #expect(ICServiceID.heartbeat.frameworkVersions == [ICVersion(3, 0), ICVersion(1, 0)])
        #expect(ICMessageType.vss.rawValue == 5)
    }

    @Test func headerFieldsAtTheirOffsets() {
        let body: [UInt8] = [2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x11, 0x78, 0x56, 0x34, 0x12]
        #expect(VSSMessage.operation(body) == .hotBackup)
        #expect(VSSMessage.flags(body) == 0x1234_5678)
        var patched = body
        #expect(VSSMessage.setFlags(5, in: &patched))
        #expect(patched == [2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x11, 0x05, 0x00, 0x00, 0x00])
        #expect(VSSMessage.operation(Array(body.prefix(11))) == nil)
        #expect(VSSMessage.encode(operation: .thaw, flags: 7) == [6, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0])
        #expect(VSSMessage.noAutoRecoveryFlags == 0x0000_0005)
    }

    @Test func freezeBodyFullAndTrimmed() throws {
        // backup_type 1 @P+36, flags 0x10 @P+40, lun_count 2 @P+44, LUNs from P+48, 24 bytes each.
        var body: [UInt8] = [5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x10, 0, 0, 0, 2, 0, 0, 0]
        let guid: [UInt8] = Array(0x30..<0x40)
        body += [3, 0, 0, 0] + guid + [1, 2, 3, 0]  // bus 3, controller, port 1 target 2 lun 3
        body += [4, 0, 0, 0] + guid + [5, 6, 7, 0]
        let trimmed = try #require(VSSFreezeBody.decode(body))
        #expect(trimmed.backupType == 1 && trimmed.flags == 0x10 && trimmed.lunCount == 2)
        #expect(trimmed.luns.map(\.busType) == [3, 4])
        #expect(trimmed.luns[1].port == 5 && trimmed.luns[1].target == 6 && trimmed.luns[1].lun == 7)
        #expect(trimmed.luns[0].controller.bytes == guid)
        #expect(trimmed.encode() == body)
        let full = body + [UInt8](repeating: 0, count: 6260 - body.count)
        #expect(trimmed.encode(paddedTo: VSSFreezeBody.size) == full)
        #expect(VSSFreezeBody.size == 8 + 4 + 4 + 4 + 24 * 260)
        #expect(VSSFreezeBody.extendedSize == VSSFreezeBody.size + 24 * 260)
        #expect(try #require(VSSFreezeBody.decode(full)).luns.count == 2)
    }

    @Test func freezeBodyWithLyingCountReadsOnlyWhatIsPresent() throws {
        var body: [UInt8] = [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]
        body += [UInt8](repeating: 1, count: 24 + 10)  // one whole LUN and a torn one
        let decoded = try #require(VSSFreezeBody.decode(body))
        #expect(decoded.lunCount == 0xffff_ffff)
        #expect(decoded.luns.count == 1)
        #expect(VSSFreezeBody.decode(Array(body.prefix(19))) == nil)
    }

    @Test func deviceMessages() {
        #expect(VSSDeviceMessage.registration() == [129, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(VSSDeviceMessage.isRegistrationReply([129, 0, 0, 0]))
        #expect(!VSSDeviceMessage.isRegistrationReply([129, 0, 0, 0, 0]))
        #expect(!VSSDeviceMessage.isRegistrationReply([128, 0, 0, 0]))
        #expect(VSSDeviceMessage.request([5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == .freeze)
        #expect(VSSDeviceMessage.request([5, 0, 0]) == nil)
        #expect(VSSDeviceMessage.encodeRequest(.thaw) == [6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        // The HRESULT in bytes 0-3, little-endian: E_FAIL = 0x80004005.
        #expect(VSSDeviceMessage.reply(.fail) == [0x05, 0x40, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(VSSDeviceMessage.reply(.ok) == [UInt8](repeating: 0, count: 12))
        #expect(VSSDeviceMessage.replyStatus([0x05, 0x40, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]) == .fail)
    }
}

/// The IC service as a pure handler: replies byte for byte.
@Suite struct VSSICServiceTests {
    func endpoint(ready: Bool = true, renegotiations: Box = Box()) -> ICEndpoint<VSSICService> {
        ICEndpoint(service: VSSICService(ready: { ready }, renegotiated: { renegotiations.count += 1 }))
    }

    final class Box { var count = 0 }

    /// Expected reply: the request with flags 0x05 at P+25, `status` at P+20, `flags` at P+36.
    func expectedReply(_ request: [UInt8], status: UInt32, flags: UInt32? = nil) -> [UInt8] {
        var reply = request
        reply[20] = UInt8(status & 0xff); reply[21] = UInt8(status >> 8 & 0xff)
        reply[22] = UInt8(status >> 16 & 0xff); reply[23] = UInt8(status >> 24)
        reply[25] = 0x05
        if let flags { reply[36] = UInt8(flags & 0xff); reply[37] = 0; reply[38] = 0; reply[39] = 0 }
        return reply
    }

    @Test func negotiatesFramework3AndVSS5FromOpenVMMsList() {
        var endpoint = endpoint()
        let request = negotiateRequestBytes(frameworks: [(1, 0), (3, 0)], services: [(4, 0), (5, 0), (6, 0), (7, 0)])
        let reply = endpoint.process(request).reply ?? []
        // counts 1/1 at P+28/P+30; framework 3.0 at P+36; service 5.0 at P+40.
        #expect(Array(reply[28..<32]) == [1, 0, 1, 0])
        #expect(Array(reply[36..<44]) == [3, 0, 0, 0, 5, 0, 0, 0])
    }

    @Test func noMatchWithoutVersion5() {
        var endpoint = endpoint()
        let reply = endpoint.process(negotiateRequestBytes(frameworks: [(3, 0)], services: [(4, 0), (6, 0)])).reply ?? []
        #expect(Array(reply[28..<32]) == [0, 0, 0, 0])
    }

    @Test func hotBackupSetsNoAutoRecoveryFlags() {
        // Defect V1: the kernel echoes the host's P+36; hvagent over its own ring writes 5.
        var endpoint = endpoint()
        let request = vssPacket(operation: 2, flags: 0xdead_beef)
        let outcome = endpoint.process(request)
        #expect(outcome.reply == expectedReply(request, status: 0, flags: 5))
        #expect(outcome.action == nil)
    }

    @Test func hotBackupWhileBusyFailsAndLeavesFlags() {
        var endpoint = endpoint(ready: false)
        let request = vssPacket(operation: 2)
        #expect(endpoint.process(request).reply == expectedReply(request, status: 0x8000_4005))
    }

    @Test func getDMInfoAnswersZeroFlags() {
        var endpoint = endpoint()
        let request = vssPacket(operation: 3, flags: 9)
        #expect(endpoint.process(request).reply == expectedReply(request, status: 0, flags: 0))
    }

    @Test(arguments: [UInt8(0), 1, 4, 7, 8, 77])
    func otherOperationsAnswerOKWithoutAction(operation: UInt8) {
        var endpoint = endpoint()
        let request = vssPacket(operation: operation, flags: 3)
        let outcome = endpoint.process(request)
        #expect(outcome.reply == expectedReply(request, status: 0))
        #expect(outcome.action == nil)
    }

    @Test func freezeAndThawBecomeWorkWithTheFullBodyEchoed() {
        var endpoint = endpoint()
        let freeze = vssPacket(operation: 5, extra: [UInt8](repeating: 0, count: 6260 - 12))
        let outcome = endpoint.process(freeze)
        #expect(outcome.action == .freeze)
        #expect(outcome.reply?.count == 28 + 6260)
        #expect(endpoint.process(vssPacket(operation: 6)).action == .thaw)
    }

    @Test func shortPacketsAreDroppedLikeLinux() {
        var endpoint = endpoint()
        // 39 bytes: the body has 11 of the 12 bytes Linux requires.
        var request = vssPacket(operation: 5)
        request.removeLast()
        request[4] = UInt8(request.count - 8)
        #expect(endpoint.process(request).reply == nil)
    }

    @Test func negotiateResetsTheService() {
        let box = Box()
        var endpoint = endpoint(renegotiations: box)
        _ = endpoint.process(negotiateRequestBytes(frameworks: [(3, 0)], services: [(5, 0)]))
        _ = endpoint.process(negotiateRequestBytes(frameworks: [(3, 0)], services: [(5, 0)]))
        #expect(box.count == 2)
    }
}

/// A NEGOTIATE request laid out from docs/PROTOCOL.md §5.4.
func negotiateRequestBytes(frameworks: [(UInt8, UInt8)], services: [(UInt8, UInt8)]) -> [UInt8] {
    let bodySize = 8 + 4 * (frameworks.count + services.count)
    var bytes: [UInt8] = [0x01, 0, 0, 0, UInt8(20 + bodySize), 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 0,
                          UInt8(bodySize), 0, 0, 0, 0, 0, 0, 0x03, 0, 0,
                          UInt8(frameworks.count), 0, UInt8(services.count), 0, 0, 0, 0, 0]
    for (major, minor) in frameworks + services { bytes += [major, 0, minor, 0] }
    return bytes
}
