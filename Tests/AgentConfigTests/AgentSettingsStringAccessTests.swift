import Testing
@testable import AgentConfig

/// The string accessors Sources/hvagent still uses; to be removed with
/// AgentSettings+StringAccess.swift. Until then they must read what the typed handles read.
@Suite struct AgentSettingsStringAccessTests {
    @Test func stringAccessorsReadWhatTheHandlesRead() throws {
        let c = try AgentSettings.parse("[services]\nkvp = kernel\n[timesync]\nstep_threshold_seconds = 9\n[network]\nipv6_link_local = on\n",
                                        file: "t.conf")
        for key in ConfigKey.all { #expect(c.string(key.section, key.name) == c[key]) }
        #expect(c.string("services", "kvp") == c[.kvpServiceMode].rawValue)
        #expect(c.int("timesync", "step_threshold_seconds") == c[.stepThresholdSeconds])
        #expect(c.bool("network", "ipv6_link_local") == c[.ipv6LinkLocal])
        #expect(c.list("network", "exclude") == c[.networkExclude])
        #expect(c.string("kvp", "pooldir") == "")
    }
}
