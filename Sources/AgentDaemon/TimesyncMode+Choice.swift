import AgentConfig
import Timesync

extension TimesyncMode {
    /// The mode `[timesync] mode` asks for. `auto` depends on the machine (chronyd installed or
    /// not), so the caller says what it resolves to; the other words map one to one. AgentConfig
    /// cannot see Timesync and Timesync has no business with the configuration file, hence here.
    public init(_ choice: TimesyncModeChoice, auto: @autoclosure () -> TimesyncMode) {
        switch choice {
        case .auto: self = auto()
        case .discipline: self = .discipline
        case .chrony: self = .chrony
        case .off: self = .off
        }
    }
}
