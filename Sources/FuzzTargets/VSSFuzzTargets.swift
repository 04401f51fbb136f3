import HVProtocol
import ICFramework
import VSS

/// Fuzz target for backups (docs/RELIABILITY.md, "Fuzz targets"): the raw input as every VSS
/// decoder sees it — the kernel device's 12-byte message (kernel mode), the VSS body and the
/// FREEZE body (uio mode) — then as a VSS body under each IC message version a host may put in
/// the header, then as a sequence of IC packets through the VSS endpoint (negotiation included).
///
/// Only decoders and the message handler run: no coordinator, so nothing is ever frozen.
enum VSSFuzzTargets {
    /// The versions a host may write: openvmm's 4.0, 5.0, 6.0 and 7.0, and the one hvagent offers.
    static let versions = Array(Set([ICVersion(4, 0), ICVersion(5, 0), ICVersion(6, 0), ICVersion(7, 0)] + ICServiceID.vss.serviceVersions))
        .sorted { ($0.major, $0.minor) < ($1.major, $1.minor) }

    static let decoders = FuzzTarget(name: "vss-decoders") { input in
        let bytes = Array(input)
        deviceMessage(bytes)
        body(bytes)
        for version in versions { request(bytes, version: version) }
        var ready = false
        var endpoint = ICEndpoint(service: VSSICService(ready: {
            ready.toggle()
            return ready
        }))
        for packet in ICFuzzTargets.packets(input) {
            if let reply = endpoint.process(packet).reply {
                precondition(reply.count >= 28, "short reply")
            }
        }
    }

    /// `/dev/vmbus/hv_vss` (kernel mode): a request is exactly 12 bytes, its op byte 0.
    static func deviceMessage(_ bytes: [UInt8]) {
        let operation = VSSDeviceMessage.request(bytes)
        precondition((operation != nil) == (bytes.count == VSSDeviceMessage.size), "request accepted at the wrong size")
        if let operation { precondition(operation.rawValue == bytes[0]) }
        if let status = VSSDeviceMessage.replyStatus(bytes) {
            precondition(Array(VSSDeviceMessage.reply(status).prefix(4)) == Array(bytes.prefix(4)), "status round trip")
        }
        if VSSDeviceMessage.isRegistrationReply(bytes) { precondition(bytes.count == VSSDeviceMessage.registrationReplySize) }
    }

    /// The VSS body alone: header fields patched in place, FREEZE LUNs only where present.
    static func body(_ bytes: [UInt8]) {
        var patched = bytes
        let long = bytes.count >= VSSMessage.minimumSize
        precondition((VSSMessage.operation(bytes) != nil) == long && (VSSMessage.flags(bytes) != nil) == long)
        precondition(VSSMessage.setFlags(VSSMessage.noAutoRecoveryFlags, in: &patched) == long)
        precondition(patched.count == bytes.count, "setFlags changed the body length")
        guard let freeze = VSSFreezeBody.decode(bytes) else {
            precondition(bytes.count < VSSFreezeBody.headerSize, "a FREEZE header refused")
            return
        }
        let present = (bytes.count - VSSFreezeBody.lunsOffset) / VSSLunInfo.size
        precondition(freeze.luns.count <= min(Int(min(freeze.lunCount, UInt32(VSSFreezeBody.maximumLuns))), present),
                     "LUNs invented past lun_count, 260 or the body")
        precondition(VSSFreezeBody.decode(freeze.encode()) == freeze, "FREEZE body round trip")
    }

    /// The body in a VSS message of the given version, through a fresh endpoint (no negotiation:
    /// the header's version governs) and the handler's rules.
    static func request(_ bytes: [UInt8], version: ICVersion) {
        let packet = ICRequest.host(type: .vss, framework: ICVersion(3, 0), version: version, body: bytes).encoded()
        var endpoint = ICEndpoint(service: VSSICService(ready: { true }))
        let outcome = endpoint.process(packet)
        guard bytes.count >= VSSMessage.minimumSize, ICMessageHeader.size + bytes.count <= Int(PipeHeader.maximumMessageSize) else {
            precondition(outcome.reply == nil, "a VSS body under 12 bytes or over the pipe limit answered")
            return
        }
        guard let reply = outcome.reply else { preconditionFailure("a VSS body of \(bytes.count) bytes dropped") }
        precondition(reply.count == 28 + bytes.count, "the reply does not echo the body's length")
        let status = LittleEndian.u32(reply, at: 20)
        switch bytes[0] {
        case VSSOperation.hotBackup.rawValue:
            precondition(status == HResult.ok.rawValue && LittleEndian.u32(reply, at: 36) == VSSMessage.noAutoRecoveryFlags)
        case VSSOperation.getDMInfo.rawValue:
            precondition(status == HResult.ok.rawValue && LittleEndian.u32(reply, at: 36) == 0)
        case VSSOperation.freeze.rawValue: precondition(outcome.action == .freeze)
        case VSSOperation.thaw.rawValue: precondition(outcome.action == .thaw)
        default: precondition(outcome.action == nil && status == HResult.ok.rawValue)
        }
        precondition(reply[40...] == bytes[12...] || bytes.count == 12, "bytes after the header changed")
    }
}
