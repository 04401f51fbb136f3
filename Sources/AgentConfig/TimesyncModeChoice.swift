/// `[timesync] mode`: what hvagent does with the host's time samples.
///
/// The timesync service's own `TimesyncMode` has no `auto`: which mode auto means depends on
/// whether chronyd is installed, which the daemon finds out when it starts. The mapping lives where
/// both types are visible (AgentCore).
public enum TimesyncModeChoice: String, ConfigChoice, Hashable {
    /// chrony when chronyd is installed, else discipline.
    case auto
    /// Step and slew the clock from the host's samples.
    case discipline
    /// Feed chronyd's SOCK refclock; chronyd owns the clock.
    case chrony
    /// Answer the host, touch nothing.
    case off
}
