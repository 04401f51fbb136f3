import AgentConfig
import ArgumentParser
import DaemonSupport
import HVSystem
import VSS
#if canImport(Glibc)
import Glibc
#endif

/// `hvagent freeze-helper`: the process that freezes and thaws filesystems for the agent, run by
/// `hvagent-freeze.service` from `hvagent-freeze.socket` with CAP_SYS_ADMIN, so that
/// `hvagent.service` holds no such capability (docs/PROTOCOL.md §6.5.9, packaging/README.md).
struct FreezeHelperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze-helper",
        abstract: "Freeze and thaw filesystems for the agent (run by hvagent-freeze.socket; not for interactive use).")

    @Option(name: .long, help: "Configuration file (its [vss] section gives the freeze plan's rules).")
    var config: String = AgentSettings.defaultPath

    @Option(name: .long, help: "Listen here instead of on the socket systemd passes.")
    var socket: String?

    @Option(name: .long, help: "Serve only peers in this systemd unit's cgroup (the agent's: hvagent.service).")
    var peerUnit: String?

    @Option(name: .long, help: "Exit after this many seconds with nothing frozen (0: never).")
    var idleExitSeconds: Int = 30

    func run() throws {
        let settings = try AgentSettings.load(path: config)
        guard let listener = try HelperSocket.listener(path: socket) else {
            throw ValidationError("no socket: run from hvagent-freeze.socket, or give --socket")
        }
        let signals = try SignalEvents([SIGTERM, SIGINT])
        let mountInfo = settings[.vssMountInfo]
        let procedure = FreezeProcedure(settings: settings,
                                        freezer: IoctlFilesystemFreezer(rootPrefix: FreezeProcedure.rootPrefix(forMountInfo: mountInfo)))
        let helper = FreezeHelper(listener: listener, procedure: procedure, peerUnit: peerUnit,
                                  idleExitSeconds: idleExitSeconds > 0 ? idleExitSeconds : nil,
                                  log: { line in
                                      let bytes = Array("\(line)\n".utf8)
                                      _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
                                  })
        helper.run(stop: signals.descriptor)
    }
}
