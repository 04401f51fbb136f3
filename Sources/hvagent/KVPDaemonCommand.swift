import AgentConfig
import AgentDaemon
import ArgumentParser
import KVPAgent
import KVPStore
#if canImport(Glibc)
import Glibc
#endif

/// `hvagent kvp-daemon`: KVP over the kernel's /dev/vmbus/hv_kvp in the
/// foreground, a drop-in for `hv_kvp_daemon -n`.
struct KVPDaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvp-daemon",
        abstract: "Serve Hyper-V KVP over /dev/vmbus/hv_kvp in the foreground (like hv_kvp_daemon -n)."
    )

    @Option(name: .long, help: "Directory of the pool files .kvp_pool_0..4.")
    var poolDir: String = PoolStore.defaultDirectory

    @Option(name: .long, help: "KVP character device.")
    var device: String = KernelDeviceFrontEnd.defaultDevicePath

    @Option(name: .long, help: "Longest wait (seconds) for another program's pool-file lock.")
    var lockTimeout: Double = 10

    @Flag(name: [.customShort("n"), .long], help: "Accepted for hv_kvp_daemon compatibility; always foreground.")
    var noDaemon = false

    @Flag(name: [.customShort("d"), .long], help: "Log every request.")
    var debug = false

    @Option(name: .long, help: "Configuration file ([network] rules for the auto pool).")
    var config = AgentSettings.defaultPath

    func validate() throws {
        // Every reply must reach the kernel well within its 30-second timeout.
        guard lockTimeout >= 0, lockTimeout <= 25 else {
            throw ValidationError("--lock-timeout must be between 0 and 25 seconds")
        }
    }

    func run() throws {
        let settings: AgentSettings
        do {
            settings = try AgentSettings.load(path: config)
        } catch {
            Self.fail("hvagent kvp-daemon: refusing to start: \(error)")
        }
        LiveLogLevel.bootstrap()
        do {
            try KVPDaemon.run(live: LiveSettings(settings, path: config, overrides: []), poolDirectory: poolDir,
                              devicePath: device, lockTimeout: lockTimeout, traceRequests: debug)
        } catch {
            Self.fail("hvagent kvp-daemon: \(error)")
        }
    }

    /// hv_kvp_daemon's way to fail: one line on standard error, exit status 1.
    private static func fail(_ line: String) -> Never {
        var text = line + "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        Glibc.exit(1)
    }
}
