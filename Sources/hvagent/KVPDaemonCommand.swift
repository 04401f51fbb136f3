import AgentConfig
import AgentCore
import ArgumentParser
import HVSystem
import KVPAgent
import KVPStore
import NetInfo
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
        let log: (String) -> Void = { line in
            var text = line + "\n"
            text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        }
        // A write to a device that went away must be an error we handle
        // (reopen), never a signal that kills the daemon.
        signal(SIGPIPE, SIG_IGN)
        let store: PoolStore
        do {
            store = try PoolStore.openForDaemon(directory: poolDir, lockTimeout: lockTimeout, log: log)
        } catch {
            log("hvagent kvp-daemon: \(error)")
            throw ExitCode(1)
        }
        let settings: AgentSettings
        do {
            settings = try AgentSettings.load(path: config)
        } catch {
            log("hvagent kvp-daemon: refusing to start: \(error)")
            throw ExitCode(1)
        }
        // The auto pool and GET_IP_INFO come from live netlink state; without it (no netlink
        // access) pool 2 is empty and GET_IP_INFO fails, and KVP otherwise works.
        let facts: NetworkFacts?
        do {
            facts = try NetworkFacts(configuration: .init(rules: LiveSettings.interfaceRules(settings)))
        } catch {
            log("KVP: network facts unavailable (\(error)); the auto pool will be empty")
            facts = nil
        }
        // What the host can trigger over and over (a failing SET, a malformed message) is logged
        // once per distinct line per minute.
        let limiter = RefusalLogLimiter()
        let hostLog: (String) -> Void = { line in if let text = limiter.line(kind: line, text: line) { log(text) } }
        let engine = KVPEngine(store: store, autoPool: facts, ipInfo: facts, log: hostLog)
        let frontEnd = KernelDeviceFrontEnd(engine: engine, devicePath: device, log: hostLog)
        frontEnd.traceRequests = debug
        log("KVP starting; pid is:\(getpid())")
        do {
            try serve(frontEnd, facts: facts, log: log)
        } catch {
            log("hvagent kvp-daemon: \(error)")
            throw ExitCode(1)
        }
    }

    /// The device and the network facts in one poll loop (the device starts closed: the first
    /// reopen is the start). After a failure it waits the front end's back-off and reopens; a busy
    /// device (another program holds it, B14) is waited for, any other open or registration
    /// failure ends the daemon.
    private func serve(_ frontEnd: KernelDeviceFrontEnd, facts: NetworkFacts?, log: (String) -> Void) throws(SystemCallError) {
        while true {
            if frontEnd.descriptor < 0 {
                do {
                    try frontEnd.reopen()
                } catch where error.errno == .resourceBusy {
                    let delay = max(frontEnd.reopenDelayMicroseconds, 100_000)
                    log("KVP: \(frontEnd.devicePath) busy; retrying in \(delay / 1000) ms")
                    usleep(UInt32(delay))
                    continue
                }
            }
            var fds = [pollfd(fd: frontEnd.descriptor, events: Int16(POLLIN), revents: 0)]
            if let facts { fds.append(pollfd(fd: facts.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
            guard retryingOnInterrupt({ poll(&fds, nfds_t(fds.count), -1) }) > 0 else { continue }
            if let facts, fds[1].revents != 0 { _ = try? facts.processPendingEvents() }
            guard fds[0].revents != 0 else { continue }
            do {
                try frontEnd.serviceOne()
            } catch where error.errno == .resourceBusy {
                continue
            }
            // A device that keeps failing stays closed for the back-off pause.
            if frontEnd.descriptor < 0 { usleep(UInt32(frontEnd.reopenDelayMicroseconds)) }
        }
    }
}
