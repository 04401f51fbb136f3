import HVProtocol
/// Guest-side version negotiation, exactly as Linux `vmbus_prep_negotiate_resp`
/// (drivers/hv/channel_mgmt.c) computes it.
public enum ICNegotiation {
    /// `icmsgsize` of every negotiate reply: 8 fixed bytes + 2 versions.
    public static let replyMessageSize: UInt16 = 0x10

    /// Computes the reply body for a negotiate request body (at least 4 bytes: the counts).
    ///
    /// Linux behaviour reproduced byte for byte:
    /// - F and M above 100, or lists longer than the body, are "no match".
    /// - Framework: first guest version (newest first) found among the host's F entries;
    ///   then service the same way among the M entries.
    /// - Reply in place at the original length: counts 1/1 and version[0], version[1] =
    ///   the chosen pair on success; counts 0/0 on failure, where version[0] is still
    ///   {F, 0} (or the chosen framework if only the service failed) and version[1] is
    ///   {M, 0}, because Linux seeds its result variables with the counts.
    /// - version[0]/[1] bytes beyond the received length are not sent (Linux writes them
    ///   into its larger receive buffer, then sends only the received length).
    public static func replyBody(
        for requestBody: [UInt8], guestFrameworks: [ICVersion], guestServices: [ICVersion]
    ) -> (body: [UInt8], result: NegotiatedVersions?) {
        var body = requestBody
        let frameworkCount = LittleEndian.u16(requestBody, at: 0) ?? 0
        let serviceCount = LittleEndian.u16(requestBody, at: 2) ?? 0
        var chosenFramework = ICVersion(frameworkCount, 0)
        var chosenService = ICVersion(serviceCount, 0)
        var matched = false

        let listBytes = NegotiateBody.fixedSize + ICVersion.size * (Int(frameworkCount) + Int(serviceCount))
        if Int(frameworkCount) <= NegotiateBody.maximumVersionCount,
           Int(serviceCount) <= NegotiateBody.maximumVersionCount, listBytes <= requestBody.count {
            let offered = (0..<(Int(frameworkCount) + Int(serviceCount))).compactMap {
                ICVersion.decode(requestBody, at: NegotiateBody.fixedSize + ICVersion.size * $0)
            }
            let hostFrameworks = offered.prefix(Int(frameworkCount))
            let hostServices = offered.dropFirst(Int(frameworkCount))
            if let framework = guestFrameworks.first(where: { hostFrameworks.contains($0) }) {
                chosenFramework = framework
                if let service = guestServices.first(where: { hostServices.contains($0) }) {
                    chosenService = service
                    matched = true
                }
            }
        }

        let count: UInt16 = matched ? 1 : 0
        LittleEndian.store(count, into: &body, at: 0)
        LittleEndian.store(count, into: &body, at: 2)
        LittleEndian.store(chosenFramework.major, into: &body, at: 8)
        LittleEndian.store(chosenFramework.minor, into: &body, at: 10)
        LittleEndian.store(chosenService.major, into: &body, at: 12)
        LittleEndian.store(chosenService.minor, into: &body, at: 14)
        let result = matched ? NegotiatedVersions(framework: chosenFramework, service: chosenService) : nil
        return (body, result)
    }
}
