import AgentConfig
import HVProtocol
import Testing
import VMBusDiscovery

/// How the `[services]` keys reach mode selection.
@Suite struct ServiceModeChoiceTests {
    /// Each service hvagent serves names its own key, and every `[services]` key belongs to one.
    @Test func everyAgentServiceNamesItsOwnModeKey() {
        for service in ICServiceID.allCases {
            let key = service.modeSetting.key
            #expect(key.section == "services", "\(service)")
            #expect(key.name == service.rawValue)
        }
        let keys = ICServiceID.allCases.map(\.modeSetting.key)
        #expect(keys == ConfigKey.all.filter { $0.section == "services" })
    }

    @Test func settingsGiveEachServiceItsMode() throws {
        var settings = AgentSettings()
        try settings.override("services.timesync=off")
        try settings.override("services.kvp=kernel")
        #expect(settings.mode(of: .timesync) == .off)
        #expect(settings.mode(of: .kvp) == .kernel)
        #expect(settings.mode(of: .heartbeat) == .auto)
    }

    @Test func offGivesNoMode() {
        let decision = ModeSelector(kernel: KernelRelease(major: 6, minor: 12)).decide(.kvp, preference: .off, device: nil)
        #expect(decision.mode == nil)
        #expect(decision.reason == "off in the configuration")
    }
}
