import AgentConfig

/// The configuration parser on arbitrary bytes: it must return a configuration or a located error.
enum ConfigFuzzTarget {
    static let parser = FuzzTarget(name: "config-parser") { input in
        let text = String(decoding: input, as: UTF8.self)
        do throws(ConfigError) {
            let config = try AgentSettings.parse(text, file: "fuzz.conf")
            precondition(config.values.count == ConfigKey.all.count)
        } catch {
            precondition(error.line >= 0)
        }
    }
}
