import AgentDaemon
import ArgumentParser

/// `hvagent`: the daemon and its admin subcommands.
@main
struct HVAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hvagent",
        abstract: "Hyper-V guest agent: integration services over user-space VMBus rings.",
        version: HVAgentVersion.string,
        subcommands: [
            DemoCommand.self, RunCommand.self, StatusCommand.self, SimHostCommand.self, LsVMBusCommand.self, DoctorCommand.self,
            ConfigCommand.self, ReleaseCommand.self, KVPDaemonCommand.self, VSSThawCommand.self, FreezeHelperCommand.self,
            IPHelperCommand.self,
        ]
    )
}
