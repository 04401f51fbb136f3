import HVProtocol
import ArgumentParser
import VMBusDiscovery

/// `hvagent release`: hands every integration-service device bound to uio_hv_generic back to the
/// kernel (run by the packages on removal, and by admins who want hv_utils back, e.g. to hibernate).
/// Stop the daemon first: unbinding an open device tears its channel down.
struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Hand integration-service devices bound to uio_hv_generic back to hv_utils."
    )

    @Option(help: ArgumentHelp("Resolve sysfs under this root (for testing).", visibility: .hidden))
    var root = "/"

    func run() throws {
        let sysfs = DirectorySysfs(root: root)
        let discovery = VMBusDiscovery(sysfs: sysfs)
        guard discovery.busPresent else {
            print("no VMBus on this machine: nothing to release")
            return
        }
        let binder = UIOBinder(sysfs: sysfs)
        var failed = false
        for device in discovery.devices() where device.driver == UIOBinder.uioDriver && device.deviceClass.flatMap({ ICServiceID(classID: $0.classID) }) != nil {
            do {
                try binder.releaseToKernel(device)
                print("\(device.className) (\(device.instanceID)): handed back to the kernel")
            } catch {
                print("\(device.className) (\(device.instanceID)): \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }
}
