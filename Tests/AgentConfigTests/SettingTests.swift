import Foundation
import Testing
@testable import AgentConfig

/// The typed handles (`settings[.kvpPoolDir]`) and the key table they make up.
@Suite("Typed configuration keys")
struct SettingTests {
    /// A handle with its type erased, so that every handle fits in one list.
    struct Handle {
        let key: ConfigKey
        /// The qualified name the handle is expected to stand for.
        let expected: String
        /// Reads the handle, typed, and writes the value back as the parser stores it.
        let readText: @Sendable (AgentSettings) -> String
        let defaultText: String

        init<Value>(_ setting: Setting<Value>, _ expected: String) {
            key = setting.key
            self.expected = expected
            readText = { $0[setting].settingText }
            defaultText = setting.defaultValue.settingText
        }
    }

    /// Every handle, written out with the key it must read: a handle pointing at the wrong row,
    /// two handles on one row, or a row without a handle fails below.
    static let handles: [Handle] = [
        Handle(.logLevel, "agent.log_level"),
        Handle(.uioSignalBackport, "agent.uio_signal_backport"),
        Handle(.releaseOnStop, "agent.release_on_stop"),
        Handle(.statusSocket, "agent.status_socket"),
        Handle(.heartbeatServiceMode, "services.heartbeat"),
        Handle(.shutdownServiceMode, "services.shutdown"),
        Handle(.timesyncServiceMode, "services.timesync"),
        Handle(.kvpServiceMode, "services.kvp"),
        Handle(.fcopyServiceMode, "services.fcopy"),
        Handle(.vssServiceMode, "services.vss"),
        Handle(.healthUnits, "heartbeat.health_units"),
        Handle(.healthCommand, "heartbeat.health_command"),
        Handle(.poweroffCommand, "shutdown.poweroff_command"),
        Handle(.rebootCommand, "shutdown.reboot_command"),
        Handle(.hibernateCommand, "shutdown.hibernate_command"),
        Handle(.shutdownHookDir, "shutdown.hook_dir"),
        Handle(.timesyncMode, "timesync.mode"),
        Handle(.chronySocket, "timesync.chrony_socket"),
        Handle(.stepThresholdSeconds, "timesync.step_threshold_seconds"),
        Handle(.kvpPoolDir, "kvp.pool_dir"),
        Handle(.kvpDevice, "kvp.device"),
        Handle(.ipInjection, "kvp.ip_injection"),
        Handle(.ipVerifyTimeoutSeconds, "kvp.ip_verify_timeout_seconds"),
        Handle(.ipHelperSocket, "kvp.ip_helper_socket"),
        Handle(.fcopyAllowedRoots, "fcopy.allowed_roots"),
        Handle(.fcopyDevice, "fcopy.device"),
        Handle(.vssDevice, "vss.device"),
        Handle(.vssHookDir, "vss.hook_dir"),
        Handle(.vssHookTimeoutSeconds, "vss.hook_timeout_seconds"),
        Handle(.vssFreezeTimeoutSeconds, "vss.freeze_timeout_seconds"),
        Handle(.vssThawTimeoutSeconds, "vss.thaw_timeout_seconds"),
        Handle(.vssExcludeDevices, "vss.exclude_devices"),
        Handle(.vssExcludeFilesystemTypes, "vss.exclude_fstypes"),
        Handle(.vssFrozenList, "vss.frozen_list"),
        Handle(.vssFreezeHelperSocket, "vss.freeze_helper_socket"),
        Handle(.vssMountInfo, "vss.mountinfo"),
        Handle(.vssOnlyUnder, "vss.only_under"),
        Handle(.networkExclude, "network.exclude"),
        Handle(.networkInclude, "network.include"),
        Handle(.ipv6LinkLocal, "network.ipv6_link_local"),
    ]

    @Test func everyRowHasExactlyOneTypedHandleAndViceVersa() throws {
        for handle in Self.handles { #expect(handle.key.qualifiedName == handle.expected) }
        let names = Self.handles.map(\.key.qualifiedName)
        #expect(Set(names).count == names.count, "two handles read the same key")
        #expect(Set(ConfigKey.all.map(\.qualifiedName)).count == ConfigKey.all.count, "a row appears twice in the table")
        #expect(names == ConfigKey.all.map(\.qualifiedName))
        #expect(Self.handles.map(\.key) == ConfigKey.all)

        // The list above is hand-written; the declarations are what must match it. A handle
        // declared but left out of the table (and of this list) would read its default forever.
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/AgentConfig")
        var declared: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: sources.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                guard words.starts(with: ["public", "static", "var"]), words.count > 4, words[4] == "Self" else { continue }
                declared.append(String(words[3].dropLast()))
            }
        }
        #expect(declared.count == ConfigKey.all.count)
        #expect(Set(declared).count == declared.count)
    }

    /// A handle's typed default is its row's default text, which the row's own kind accepts as is.
    @Test func typedDefaultsAreTheRowsDefaults() {
        let defaults = AgentSettings()
        for handle in Self.handles {
            #expect(handle.defaultText == handle.key.defaultValue, "\(handle.expected)")
            #expect(handle.readText(defaults) == handle.key.defaultValue, "\(handle.expected)")
            #expect(handle.key.normalise(handle.key.defaultValue) == .success(handle.key.defaultValue), "\(handle.expected)")
        }
    }

    /// Whatever the parser accepts, the typed read gives back (never its default instead).
    @Test func typedReadsFollowTheParsedValues() throws {
        var settings = AgentSettings()
        for key in ConfigKey.all {
            let value: String
            switch key.kind {
            case .choice(let words): value = words.first { $0 != key.defaultValue } ?? ""
            case .boolean: value = key.defaultValue == "true" ? "no" : "YES"
            case .integer(let range): value = String(range.upperBound)
            case .list: value = "a*   b"
            case .text: value = "\"  run --this  \""
            case .path, .pathOrEmpty: value = "/srv/elsewhere"
            }
            try settings.override("\(key.qualifiedName)=\(value)")
        }
        for handle in Self.handles {
            #expect(handle.readText(settings) == settings[handle.key], "\(handle.expected)")
            #expect(handle.readText(settings) != handle.key.defaultValue, "\(handle.expected)")
        }
        #expect(settings[.logLevel] == .debug)
        #expect(settings[.uioSignalBackport])
        #expect(settings[.stepThresholdSeconds] == 3600)
        #expect(settings[.networkExclude] == ["a*", "b"])
        #expect(settings[.timesyncMode] == .discipline)
    }

    /// The choice words are the enums' cases, in case order: renaming a case would change the
    /// file format, so the words are pinned here.
    @Test func choiceWordsAreTheEnumCases() {
        #expect(Setting.logLevel.key.kind == .choice(["debug", "info", "notice", "warning", "error"]))
        #expect(Setting.timesyncMode.key.kind == .choice(["auto", "discipline", "chrony", "off"]))
        for mode in [Setting.heartbeatServiceMode, .shutdownServiceMode, .timesyncServiceMode, .kvpServiceMode, .fcopyServiceMode] {
            #expect(mode.key.kind == .choice(["auto", "uio", "kernel", "off"]))
        }
        #expect(ServiceModeChoice(settingText: "sometimes") == nil)
        #expect(Setting.kvpServiceMode == .kvpServiceMode)
        #expect(Setting.kvpServiceMode != .heartbeatServiceMode)
    }

    @Test func valuesReadAsTheirTypes() throws {
        let c = try AgentSettings.parse("""
            [agent]
            log_level = Warning
            [services]
            heartbeat = off
            [timesync]
            mode = chrony
            step_threshold_seconds = 30
            [network]
            include = eth*
            """, file: "t.conf")
        let level: LogLevelChoice = c[.logLevel]
        #expect(level == .warning)
        #expect(c[.heartbeatServiceMode] == .off)
        #expect(c[.shutdownServiceMode] == .auto)
        #expect(c[.timesyncMode] == .chrony)
        #expect(c[.stepThresholdSeconds] == 30)
        #expect(c[.networkInclude] == ["eth*"])
        #expect(c[.healthUnits].isEmpty)
        #expect(c[.healthCommand] == "")
        #expect(c[.shutdownHookDir] == "/etc/hvagent/shutdown.d")
    }
}
