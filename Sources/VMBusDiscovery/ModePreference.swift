import AgentConfig
import RingTransport

/// The `[services]` words other than off, read from text: what `Sources/hvagent` still does with
/// `ModePreference(rawValue: config.string("services", name))`, `nil` meaning off.
///
/// To be removed once Sources/hvagent uses typed keys (`config.mode(of: service)`, a
/// ``ServiceModeChoice`` that `ModeSelector.decide` takes directly). It wraps the choice rather
/// than repeating its cases.
public struct ModePreference: Sendable {
    public let choice: ServiceModeChoice

    public init?(rawValue: String) {
        guard let choice = ServiceModeChoice(rawValue: rawValue), choice != .off else { return nil }
        self.choice = choice
    }
}

extension ModeSelector {
    /// To be removed with ``ModePreference``.
    public func decide(_ service: VMBusDeviceClass, preference: ModePreference, device: VMBusDevice?) -> ModeDecision {
        decide(service, preference: preference.choice, device: device)
    }
}
