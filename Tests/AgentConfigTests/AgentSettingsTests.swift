import Foundation
import Testing
@testable import AgentConfig

@Suite("Configuration file")
struct AgentSettingsTests {
    @Test func defaultsForEveryKey() {
        let c = AgentSettings()
        #expect(c.values.count == ConfigKey.all.count)
        #expect(c[.kvpServiceMode] == .auto)
        #expect(c[.networkExclude] == ["lo", "docker*", "veth*", "virbr*", "cni*", "flannel*"])
        #expect(c[.stepThresholdSeconds] == 5)
        #expect(!c[.ipv6LinkLocal])
    }

    @Test func parsesAValidFile() throws {
        let text = """
            # comment
            [services]
            kvp = kernel
            timesync=UIO

            ; another comment
            [heartbeat]
            health_units = nginx.service   postgresql.service
            [shutdown]
            poweroff_command = "/usr/local/bin/drain && systemctl poweroff"
            [network]
            ipv6_link_local = yes
            include = "eth*"
            """
        let c = try AgentSettings.parse(text, file: "t.conf")
        #expect(c[.kvpServiceMode] == .kernel)
        #expect(c[.timesyncServiceMode] == .uio)
        #expect(c[.healthUnits] == ["nginx.service", "postgresql.service"])
        #expect(c[.poweroffCommand] == "/usr/local/bin/drain && systemctl poweroff")
        #expect(c[.ipv6LinkLocal])
        #expect(c.origins["services.kvp"] == "t.conf:3")
        #expect(c[.heartbeatServiceMode] == .auto)
    }

    @Test(arguments: [
        ("kvp = kernel", 1, "t.conf:1: key before any [section]"),
        ("[services]\nkvp = sometimes", 2, "t.conf:2: services.kvp must be one of auto, uio, kernel, off, not \"sometimes\""),
        ("[services]\nkvp = uio\nkvp = kernel", 3, "t.conf:3: services.kvp is set twice"),
        ("[nonsense]", 1, "t.conf:1: unknown section [nonsense]"),
        ("[kvp]\npooldir = /x", 2, "t.conf:2: unknown key kvp.pooldir"),
        ("[kvp]\npool_dir = relative/dir", 2, "t.conf:2: kvp.pool_dir must be an absolute path, not \"relative/dir\""),
        ("[timesync]\nstep_threshold_seconds = 0", 2, "t.conf:2: timesync.step_threshold_seconds must be a whole number from 1 to 3600, not \"0\""),
        ("[agent]\nrelease_on_stop = maybe", 2, "t.conf:2: agent.release_on_stop must be true or false, not \"maybe\""),
        ("[agent\n", 1, "t.conf:1: a section header is [name]"),
        ("[agent]\njust words", 2, "t.conf:2: expected key = value, [section], or a # comment"),
        ("[shutdown]\nreboot_command = \"unterminated", 2, "t.conf:2: unterminated quoted value"),
    ])
    func errorsAreLocated(text: String, line: Int, message: String) {
        do {
            _ = try AgentSettings.parse(text, file: "t.conf")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == line)
            #expect(error.description == message)
        }
    }

    @Test func overridesApplyAfterTheFile() throws {
        var c = try AgentSettings.parse("[services]\nkvp = uio\n", file: "t.conf")
        try c.override("services.kvp=kernel")
        #expect(c[.kvpServiceMode] == .kernel)
        #expect(c.origins["services.kvp"] == "command line")
        #expect(throws: ConfigError.self) { try c.override("services.nothing=1") }
        #expect(throws: ConfigError.self) { try c.override("novalue") }
        #expect(throws: ConfigError.self) { try c.override("services.kvp=maybe") }
    }

    @Test func documentedDefaultsRoundTrip() throws {
        let doc = AgentSettings.documentedDefaults()
        // Every key appears once, commented out.
        for key in ConfigKey.all { #expect(doc.contains("\n#\(key.name) = ")) }
        #expect(try AgentSettings.parse(doc, file: "doc") == AgentSettings())
        // Uncommenting every key gives the defaults again.
        let uncommented = doc.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line -> String in
                let s = String(line)
                return s.hasPrefix("#") && s.contains(" = ") && !s.hasPrefix("# ") ? String(s.dropFirst()) : s
            }.joined(separator: "\n")
        let c = try AgentSettings.parse(uncommented, file: "doc")
        #expect(c.values == AgentSettings().values)
        #expect(c.origins.count == ConfigKey.all.count)
    }

    @Test func missingDefaultFileMeansDefaultsButANamedFileMustExist() throws {
        #expect(throws: ConfigError.self) { _ = try AgentSettings.load(path: "/nonexistent/hvagent.conf") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a.conf")
        try "[kvp]\npool_dir = /tmp/pools\n".write(to: file, atomically: true, encoding: .utf8)
        let c = try AgentSettings.load(path: file.path, overrides: ["network.include=eth0 eth1"])
        #expect(c[.kvpPoolDir] == "/tmp/pools")
        #expect(c[.networkInclude] == ["eth0", "eth1"])
    }

    /// `[kvp] ip_helper_socket` takes an absolute path or nothing (apply in the agent's process).
    @Test func theIPHelperSocketIsAnAbsolutePathOrEmpty() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hvagent-conf-\(getpid())-ip")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a.conf")
        try "[kvp]\nip_helper_socket =\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try AgentSettings.load(path: file.path)[.ipHelperSocket] == "")
        #expect(AgentSettings()[.ipHelperSocket] == "/run/hvagent/ip.sock")
        var settings = AgentSettings()
        try settings.override("kvp.ip_helper_socket=/run/elsewhere/ip.sock")
        #expect(settings[.ipHelperSocket] == "/run/elsewhere/ip.sock")
        #expect(throws: ConfigError.self) { try settings.override("kvp.ip_helper_socket=ip.sock") }
    }
}

/// What a reload (SIGHUP) applies and what waits for a restart.
@Suite struct ConfigReloadTests {
    @Test func liveKeysApplyRestartKeysWaitAndStayAtTheirRunningValues() throws {
        let running = try AgentSettings.parse("[heartbeat]\nhealth_command = exit 1\n[services]\nkvp = uio\n", file: "a.conf")
        let loaded = try AgentSettings.parse(
            "[agent]\nlog_level = debug\n[heartbeat]\nhealth_command = true\n[services]\nkvp = kernel\n[kvp]\npool_dir = /srv/kvp\n",
            file: "b.conf")
        let plan = ConfigReload(running: running, loaded: loaded)
        #expect(plan.applied.map(\.qualifiedName) == ["agent.log_level", "heartbeat.health_command"])
        #expect(plan.needRestart.map(\.qualifiedName) == ["services.kvp", "kvp.pool_dir"])
        #expect(plan.effective[.logLevel] == .debug)
        #expect(plan.effective[.healthCommand] == "true")
        #expect(plan.effective.origins["heartbeat.health_command"] == "b.conf:4")
        // Restart-only keys keep what runs, so the next reload still reports them.
        #expect(plan.effective[.kvpServiceMode] == .uio)
        #expect(plan.effective[.kvpPoolDir] == "/var/lib/hyperv")
        let again = ConfigReload(running: plan.effective, loaded: loaded)
        #expect(again.applied.isEmpty)
        #expect(again.needRestart.map(\.qualifiedName) == ["services.kvp", "kvp.pool_dir"])
        #expect(plan.summary == "applied agent.log_level, heartbeat.health_command; changed but applied only at the next start "
            + "(systemctl restart hvagent): services.kvp, kvp.pool_dir")
        #expect(ConfigReload(running: running, loaded: running).summary == "configuration unchanged")
    }

    /// Modes, devices, paths and sockets never change under open channels; every key says which
    /// it is in the default file and the man page.
    @Test func everyKeyDocumentsWhenItApplies() {
        let restartOnly = ConfigKey.all.filter { !$0.appliesOnReload }.map(\.qualifiedName)
        #expect(restartOnly == ["agent.uio_signal_backport", "agent.status_socket", "services.heartbeat", "services.shutdown",
                                "services.timesync", "services.kvp", "services.fcopy", "services.vss", "timesync.mode", "timesync.chrony_socket",
                                "kvp.pool_dir", "kvp.device", "kvp.ip_injection", "kvp.ip_verify_timeout_seconds", "kvp.ip_helper_socket", "fcopy.allowed_roots", "fcopy.device", "vss.device", "vss.frozen_list",
                                "vss.freeze_helper_socket", "vss.mountinfo"])
        let doc = AgentSettings.documentedDefaults()
        let man = AgentSettings.manPageKeys()
        #expect(doc.components(separatedBy: "Takes effect on reload (SIGHUP).").count - 1 == ConfigKey.all.count - restartOnly.count)
        #expect(doc.components(separatedBy: "Takes effect at the next start.").count - 1 == restartOnly.count)
        #expect(man.components(separatedBy: "Takes effect").count - 1 == ConfigKey.all.count)
    }
}
