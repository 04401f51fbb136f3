/// The framework and service versions a NEGOTIATE settled on: the one version of each that a guest
/// reply carries (docs/PROTOCOL.md §5.4). A plain value of the protocol, so the guest's framework
/// and the simulated host both name it without sharing any decoder.
public struct NegotiatedVersions: Hashable, Sendable, CustomStringConvertible {
    public var framework: ICVersion
    public var service: ICVersion

    public init(framework: ICVersion, service: ICVersion) {
        self.framework = framework
        self.service = service
    }

    /// As logs and the exchange log print it ("framework 3.0, service 4.0").
    public var description: String { "framework \(framework), service \(service)" }
}
