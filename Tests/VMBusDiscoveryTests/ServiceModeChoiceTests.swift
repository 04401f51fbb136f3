import AgentConfig
import RingTransport
import Testing
import VMBusDiscovery

/// How the `[services]` keys reach mode selection.
@Suite struct ServiceModeChoiceTests {
    /// Each service hvagent serves names its own key, and every `[services]` key belongs to one.
    @Test func everyAgentServiceNamesItsOwnModeKey() {
        for service in VMBusDeviceClass.all {
            let key = service.modeSetting?.key
            if service.servedByAgent {
                #expect(key?.section == "services", "\(service.name)")
                #expect(key?.name == service.name)
            } else {
                #expect(key == nil, "\(service.name)")
            }
        }
        let keys = VMBusDeviceClass.agentServices.compactMap(\.modeSetting?.key)
        #expect(keys == ConfigKey.all.filter { $0.section == "services" })
    }

    @Test func settingsGiveEachServiceItsMode() throws {
        var settings = AgentSettings()
        try settings.override("services.timesync=off")
        try settings.override("services.kvp=kernel")
        #expect(settings.mode(of: .timesync) == .off)
        #expect(settings.mode(of: .kvp) == .kernel)
        #expect(settings.mode(of: .heartbeat) == .auto)
        #expect(settings.mode(of: .netvsc) == .off)
    }

    @Test func offGivesNoMode() {
        let decision = ModeSelector(kernel: KernelRelease(major: 6, minor: 12)).decide(.kvp, preference: .off, device: nil)
        #expect(decision.mode == nil)
        #expect(decision.reason == "off in the configuration")
    }

    /// The text form Sources/hvagent still uses; to be removed with ModePreference.swift.
    @Test func modePreferenceFromTextIsTheChoiceOffExcepted() {
        #expect(ModePreference(rawValue: "off") == nil)
        #expect(ModePreference(rawValue: "sometimes") == nil)
        let selector = ModeSelector(kernel: KernelRelease(major: 6, minor: 12))
        for choice in ServiceModeChoice.allCases where choice != .off {
            #expect(ModePreference(rawValue: choice.rawValue)?.choice == choice)
            if let preference = ModePreference(rawValue: choice.rawValue) {
                #expect(selector.decide(.kvp, preference: preference, device: nil) == selector.decide(.kvp, preference: choice, device: nil))
            }
        }
    }
}
