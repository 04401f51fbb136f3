import HVProtocol

/// The host's half of version negotiation (docs/PROTOCOL.md §5.4): the NEGOTIATE request it sends
/// after every open and the check of the guest's answer.
///
/// Body offsets (Linux `struct icmsg_negotiate`, openvmm `NegotiateMessage`): +0 u16
/// `icframe_vercnt`, +2 u16 `icmsg_vercnt`, +4 u32 reserved, +8 the framework versions then the
/// service versions, each {u16 major, u16 minor}.
public enum HostNegotiation {
    /// The request body: the offer's lists in the host's order.
    public static func requestBody(_ offer: HostVersionOffer) -> [UInt8] {
        var body: [UInt8] = []
        NegotiateBody(frameworkVersions: offer.frameworkVersions, serviceVersions: offer.serviceVersions).encode(into: &body)
        return body
    }

    /// The versions a reply body settled on, or nil when the guest found no match.
    ///
    /// As openvmm's host (vm/devices/hyperv_ic/src/common.rs, `IcPipe::negotiate`): the counts must
    /// be exactly 1 and 1 (a guest without a match answers 0/0), then the two versions at +8 and
    /// +12. Also checked: both were in the offer, so a guest that makes a version up is caught.
    public static func agreedVersions(replyBody body: [UInt8], offer: HostVersionOffer) -> NegotiatedVersions? {
        guard LittleEndian.u16(body, at: 0) == 1, LittleEndian.u16(body, at: 2) == 1,
              let framework = ICVersion.decode(body, at: NegotiateBody.fixedSize),
              let service = ICVersion.decode(body, at: NegotiateBody.fixedSize + ICVersion.size),
              offer.frameworkVersions.contains(framework), offer.serviceVersions.contains(service)
        else { return nil }
        return NegotiatedVersions(framework: framework, service: service)
    }
}
