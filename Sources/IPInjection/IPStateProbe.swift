/// Reads what the kernel has configured on an interface now, to verify an applied configuration
/// against (rtnetlink in the daemon, a script in tests).
public protocol IPStateProbe: Sendable {
    func observe(_ interface: InjectionInterface) -> ObservedIPState
}

/// The kernel's view of one interface: its addresses and the gateways of its default routes.
public struct ObservedIPState: Equatable, Sendable {
    public var addresses: Set<IPConfiguration.Address>
    public var defaultGateways: Set<IPLiteral>

    public init(addresses: Set<IPConfiguration.Address> = [], defaultGateways: Set<IPLiteral> = []) {
        self.addresses = addresses
        self.defaultGateways = defaultGateways
    }
}

extension IPConfiguration {
    /// What of this configuration `state` does not show yet, one phrase each; empty when all of it is
    /// there. Static addresses must be present with their prefix length and every gateway as a
    /// default route of the interface. DNS servers are not in the kernel and cannot be checked
    /// here; DHCP leases come when they come, so only the static part is required.
    public func missing(in state: ObservedIPState) -> [String] {
        addresses.filter { !state.addresses.contains($0) }.map { "address \($0)" }
            + gateways.filter { !state.defaultGateways.contains($0) }.map { "default route via \($0)" }
    }
}
