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

    func validate() throws {
        // Every reply must reach the kernel well within its 30-second timeout.
        guard lockTimeout >= 0, lockTimeout <= 25 else {
            throw ValidationError("--lock-timeout must be between 0 and 25 seconds")
        }
    }

    func run() throws {
        let log: (String) -> Void = { line in
            var text = line + "\n"
            text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        }
        // A write to a device that went away must be an error we handle
        // (reopen), never a signal that kills the daemon.
        signal(SIGPIPE, SIG_IGN)
        let store: PoolStore
        do {
            store = try PoolStore(directory: poolDir, writable: true, lockTimeout: lockTimeout)
            for r in try store.openAll() {
                log("KVP: dropped a partial record (\(r.droppedBytes) bytes) at the end of pool \(r.pool)")
            }
        } catch {
            log("hvagent kvp-daemon: \(error)")
            throw ExitCode(1)
        }
        // The auto pool and GET_IP_INFO sources (NetInfo) plug in here:
        // KVPEngine(store:autoPool:ipInfo:log:).
        let engine = KVPEngine(store: store, log: log)
        let frontEnd = KernelDeviceFrontEnd(engine: engine, devicePath: device, log: log)
        frontEnd.traceRequests = debug
        log("KVP starting; pid is:\(getpid())")
        do {
            try frontEnd.run()
        } catch {
            log("hvagent kvp-daemon: \(error)")
            throw ExitCode(1)
        }
    }
}
