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

/// File copy is never served on a confidential VM, whatever the configuration asks.
@Suite struct ConfidentialGuestTests {
    @Test func detectsEncryptedMemoryGuestsFromCPUFlags() {
        #expect(ConfidentialGuest.detect(cpuinfo: "processor\t: 0\nflags\t\t: fpu vme sse2 hypervisor tdx_guest\n") == "CPU flags tdx_guest")
        #expect(ConfidentialGuest.detect(cpuinfo: "flags\t\t: fpu sev sev_es sev_snp\n") == "CPU flags sev sev_es sev_snp")
        #expect(ConfidentialGuest.detect(cpuinfo: "flags\t\t: fpu vme hypervisor\nbugs\t\t: sev_like_word\n") == nil)
        #expect(ConfidentialGuest.detect(cpuinfoPath: "/nonexistent/cpuinfo") == nil)
    }

    @Test func fileCopyIsOffOnConfidentialVMs() {
        let selector = ModeSelector(kernel: KernelRelease(major: 6, minor: 12), confidentialGuest: "CPU flags tdx_guest")
        for preference in [ServiceModeChoice.auto, .uio, .kernel] {
            let decision = selector.decide(.fcopy, preference: preference, device: nil)
            #expect(decision.mode == nil)
            #expect(decision.reason.contains("confidential"))
        }
        // The other services are unaffected, and file copy runs on an ordinary VM.
        #expect(selector.decide(.kvp, preference: .kernel, device: nil).mode == .kernel)
        #expect(ModeSelector(kernel: KernelRelease(major: 6, minor: 12)).decide(.fcopy, preference: .kernel, device: nil).mode == .kernel)
    }
}
