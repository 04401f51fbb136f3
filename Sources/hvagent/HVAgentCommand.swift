import ArgumentParser

/// `hvagent`: the Hyper-V guest agent.  One subcommand per service or mode.
@main
struct HVAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hvagent",
        abstract: "Linux guest agent for Microsoft Hyper-V.",
        subcommands: [KVPDaemonCommand.self]
    )
}
