import AgentConfig
import ArgumentParser
import VSS

/// `hvagent vss-thaw`: thaws what the frozen list names (COMPATIBILITY.md V3). The unit runs it
/// as `ExecStopPost=`, so an agent killed while filesystems were frozen (SIGKILL, a crash, the
/// watchdog) still leaves them thawed; it is safe to run any time (no list: nothing to do).
struct VSSThawCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vss-thaw",
        abstract: "Thaw the filesystems a previous hvagent run froze for a backup and did not thaw.")

    @Option(name: .long, help: "Configuration file.")
    var config: String = AgentSettings.defaultPath

    func run() throws {
        let settings = try AgentSettings.load(path: config)
        let procedure = FreezeProcedure(settings: settings)
        guard let outcome = procedure.thawRecorded(reason: "vss-thaw") else {
            print("nothing recorded in \(settings[.vssFrozenList]): nothing to thaw")
            return
        }
        for note in outcome.notes { print(note) }
        if outcome.status != .ok { throw ExitCode.failure }
    }
}
