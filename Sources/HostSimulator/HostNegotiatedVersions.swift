import HVProtocol

/// The framework and service versions a guest chose in its NEGOTIATE reply, as the host read them.
///
/// The host's own type rather than the guest framework's `NegotiatedVersions`: the simulator does
/// not link the guest's modules, so the two sides cannot agree by sharing a decoder.
public struct HostNegotiatedVersions: Hashable, Sendable, CustomStringConvertible {
    public var framework: ICVersion
    public var service: ICVersion

    public init(framework: ICVersion, service: ICVersion) {
        self.framework = framework
        self.service = service
    }

    /// The exchange log's wording ("framework 3.0, service 4.0").
    public var description: String { "framework \(framework), service \(service)" }
}
