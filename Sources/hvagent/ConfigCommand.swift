import AgentDaemon
import AgentConfig
import ArgumentParser

/// `hvagent config`: check a configuration file, show the effective settings, or print the
/// documented defaults (the file the packages install).
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check the configuration file and show the effective settings."
    )

    @Option(name: .shortAndLong, help: "The configuration file.")
    var file = AgentSettings.defaultPath

    @Option(name: .customLong("set"), help: "Override a key (section.key=value); repeatable.")
    var overrides: [String] = []

    @Flag(help: "Print the documented default file and exit.")
    var defaults = false

    @Flag(help: ArgumentHelp("Print the KEYS section of hvagent.conf(5) in roff (for packaging).", visibility: .hidden))
    var manKeys = false

    func run() throws {
        if manKeys {
            print(AgentSettings.manPageKeys(), terminator: "")
            return
        }
        if defaults {
            print(AgentSettings.documentedDefaults(), terminator: "")
            return
        }
        let config: AgentSettings
        do {
            config = try AgentSettings.load(path: file, overrides: overrides)
        } catch {
            throw CommandFailure(error.description)
        }
        for key in ConfigKey.all {
            let origin = config.origins[key.qualifiedName].map { "  # \($0)" } ?? ""
            print("\(key.qualifiedName) = \(config[key])\(origin)")
        }
    }
}
