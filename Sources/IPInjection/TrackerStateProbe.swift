import NetInfo

/// The kernel's state of an interface from NetInfo's rtnetlink tracker — the same view the auto
/// pool and GET_IP_INFO report, so what is verified is what the host will read back.
///
/// Pending notifications are applied first: the tracker is safe to drive from any thread, and
/// when the agent's loop drains it too, this only makes the view current sooner.
///
/// A tentative address is not there yet: until duplicate address detection succeeds it cannot be
/// used, and one another machine holds stays tentative (dadfailed) for good — a configuration
/// that is listed but does not work (docs/PROTOCOL.md §7.19).
public struct TrackerStateProbe: IPStateProbe {
    public let tracker: AddressTracker

    public init(tracker: AddressTracker) {
        self.tracker = tracker
    }

    public func observe(_ interface: InjectionInterface) -> ObservedIPState {
        _ = try? tracker.processPendingEvents()
        let snapshot = tracker.snapshot()
        return ObservedIPState(
            addresses: Set(snapshot.addresses(onInterface: interface.index).filter { !$0.isTentative }
                .compactMap(IPConfiguration.Address.init)),
            defaultGateways: Set(snapshot.gateways(onInterface: interface.index).compactMap { IPLiteral(bytes: $0.bytes) }))
    }
}

extension IPConfiguration.Address {
    /// An address as rtnetlink reports it; nil for a length that is no IP address.
    init?(_ a: InterfaceAddress) {
        guard let literal = IPLiteral(bytes: a.bytes) else { return nil }
        self.init(address: literal, prefixLength: a.prefixLength)
    }
}
