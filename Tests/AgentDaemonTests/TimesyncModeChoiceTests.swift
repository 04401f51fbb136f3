import AgentConfig
import AgentDaemon
import Testing
import Timesync

@Suite struct TimesyncModeChoiceTests {
    /// `[timesync] mode`: auto is what the caller found on the machine, every other word is the
    /// service mode of the same name.
    @Test func configuredModesMapOntoTheServiceModes() {
        #expect(TimesyncMode(.auto, auto: .chrony) == .chrony)
        #expect(TimesyncMode(.auto, auto: .discipline) == .discipline)
        for choice in TimesyncModeChoice.allCases where choice != .auto {
            #expect(TimesyncMode(choice, auto: .off).rawValue == choice.rawValue)
            #expect(TimesyncMode(choice, auto: .off) == TimesyncMode(choice, auto: .chrony))
        }
    }
}
