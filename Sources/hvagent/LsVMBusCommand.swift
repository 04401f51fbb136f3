import AgentDaemon
import ArgumentParser
import VMBusDiscovery

/// `hvagent lsvmbus`: the VMBus devices of this VM, like the kernel's tools/hv/lsvmbus, plus the
/// bound driver and uio node, or JSON for scripts.
struct LsVMBusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsvmbus",
        abstract: "List VMBus devices (like tools/hv/lsvmbus)."
    )

    @Flag(name: .shortAndLong, help: "More detail; repeat for more (-vv).")
    var verbose: Int

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: ArgumentHelp("Resolve sysfs under this root (for testing).", visibility: .hidden))
    var root = "/"

    func run() throws {
        let discovery = VMBusDiscovery(sysfs: DirectorySysfs(root: root))
        guard discovery.busPresent else {
            throw CommandFailure("\(VMBusDiscovery.devicesPath) does not exist: this is not a Hyper-V guest (or hv_vmbus is not loaded)")
        }
        let devices = discovery.devices()
        print(json ? LsVMBusReport.json(devices) : LsVMBusReport.text(devices, verbosity: verbose), terminator: "")
    }
}
